package stdlib

import (
	"strings"
	"testing"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/shopspring/decimal"
)

func day(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestRecognize(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	tests := []struct {
		name             string
		amount           string
		start, end       time.Time
		period, currency string
		loc              *time.Location
		want             string // period=amount/days, space separated
	}{
		{"100.00 over three equal-weight months", "100.00", day("2024-04-01"), day("2024-07-01"), "month", "usd", time.UTC,
			"2024-04=32.97/30 2024-05=34.06/31 2024-06=32.97/30"},
		{"100.00 over 31, 30 and 31 days: the largest remainders take the cents", "100.00", day("2023-10-01"), day("2024-01-01"), "month", "usd", time.UTC,
			"2023-10=33.70/31 2023-11=32.61/30 2023-12=33.69/31"},
		{"a mid-month year of a subscription", "120.00", day("2024-01-15"), day("2025-01-15"), "month", "usd", time.UTC,
			"2024-01=5.57/17 2024-02=9.51/29 2024-03=10.17/31 2024-04=9.84/30 2024-05=10.16/31 2024-06=9.84/30 2024-07=10.16/31 2024-08=10.16/31 2024-09=9.84/30 2024-10=10.16/31 2024-11=9.84/30 2024-12=10.16/31 2025-01=4.59/14"},
		{"leap February weighs 29 days", "59.00", day("2024-02-01"), day("2024-04-01"), "month", "usd", time.UTC,
			"2024-02=28.52/29 2024-03=30.48/31"},
		{"non-leap February weighs 28 days", "59.00", day("2023-02-01"), day("2023-04-01"), "month", "usd", time.UTC,
			"2023-02=28.00/28 2023-03=31.00/31"},
		{"JPY has no decimals", "1000", day("2024-04-01"), day("2024-07-01"), "month", "JPY", time.UTC,
			"2024-04=330/30 2024-05=340/31 2024-06=330/30"},
		{"KWD has three", "10.000", day("2023-10-01"), day("2024-01-01"), "month", "kwd", time.UTC,
			"2023-10=3.370/31 2023-11=3.261/30 2023-12=3.369/31"},
		{"a credit is negative in every period", "-10.00", day("2024-04-16"), day("2024-05-16"), "month", "usd", time.UTC,
			"2024-04=-5.00/15 2024-05=-5.00/15"},
		{"a share that rounds to nothing is left out", "0.01", day("2024-04-01"), day("2024-07-01"), "month", "usd", time.UTC,
			"2024-05=0.01/31"},
		{"one day holds everything", "20.00", time.Unix(1648320011, 0), time.Unix(1648320011, 0), "month", "usd", time.UTC,
			"2022-03=20.00/1"},
		{"quarters", "90.00", day("2024-02-01"), day("2024-08-01"), "quarter", "usd", time.UTC,
			"2024-Q1=29.67/60 2024-Q2=45.00/91 2024-Q3=15.33/31"},
		{"years of a leap year", "366.00", day("2024-01-01"), day("2025-01-01"), "year", "usd", time.UTC,
			"2024=366.00/366"},
		{"dates in the company's zone", "30.00", time.Date(2024, 5, 1, 2, 0, 0, 0, time.UTC), time.Date(2024, 6, 1, 2, 0, 0, 0, time.UTC), "month", "usd", ny,
			"2024-04=0.97/1 2024-05=29.03/30"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			amt := decimal.RequireFromString(tc.amount)
			got, err := Recognize(amt, tc.start, tc.end, tc.period, tc.currency, tc.loc)
			if err != nil {
				t.Fatal(err)
			}
			_, exp, _ := exponents(tc.currency)
			var parts []string
			sum := decimal.Zero
			for i, s := range got {
				if s.N != i+1 {
					t.Errorf("share %d has n %d", i, s.N)
				}
				parts = append(parts, s.Period+"="+s.Amount.StringFixed(int32(exp))+"/"+itoa(s.Days))
				sum = sum.Add(s.Amount)
			}
			if g := strings.Join(parts, " "); g != tc.want {
				t.Errorf("got  %s\nwant %s", g, tc.want)
			}
			if !sum.Equal(amt) {
				t.Errorf("shares sum to %s, want %s", sum, amt)
			}
		})
	}
}

func itoa(n int) string { return decimal.NewFromInt(int64(n)).String() }

func TestRecognizeSumsExactly(t *testing.T) {
	for _, cur := range []string{"usd", "jpy", "kwd"} {
		for cents := int64(1); cents < 5000; cents += 37 {
			amt, _ := FromMinor(cents, cur)
			for _, span := range [][2]string{{"2024-01-31", "2024-03-01"}, {"2023-12-15", "2025-02-14"}, {"2024-02-29", "2024-03-01"}} {
				got, err := Recognize(amt, day(span[0]), day(span[1]), "month", cur, time.UTC)
				if err != nil {
					t.Fatal(err)
				}
				sum := decimal.Zero
				for _, s := range got {
					sum = sum.Add(s.Amount)
				}
				if !sum.Equal(amt) {
					t.Fatalf("%s %s over %v: shares sum to %s", amt, cur, span, sum)
				}
			}
		}
	}
}

func TestRecognizeErrors(t *testing.T) {
	tests := []struct {
		name, amount, start, end, period, currency, want string
	}{
		{"ends before it starts", "1.00", "2024-02-01", "2024-01-01", "month", "usd", "ends"},
		{"too many decimals", "1.001", "2024-01-01", "2024-02-01", "month", "usd", "more decimals"},
		{"JPY with decimals", "1.5", "2024-01-01", "2024-02-01", "month", "jpy", "more decimals"},
		{"unknown currency", "1.00", "2024-01-01", "2024-02-01", "month", "xxq", "unknown currency"},
		{"unknown period", "1.00", "2024-01-01", "2024-02-01", "week", "usd", "unknown period"},
		{"too long", "1.00", "1900-01-01", "2024-02-01", "month", "usd", "more than 1200"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Recognize(decimal.RequireFromString(tc.amount), day(tc.start), day(tc.end), tc.period, tc.currency, time.UTC)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an error with %q", err, tc.want)
			}
		})
	}
}

func TestRecognizeInCEL(t *testing.T) {
	env, err := cel.NewEnv(Library())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ expr, want string }{
		{`size(recognize(decimal("100.00"), timestamp("2024-04-01T00:00:00Z"), timestamp("2024-07-01T00:00:00Z"), "month", "usd"))`, "3"},
		{`size(recognize(decimal("100.00"), timestamp("2024-04-30T23:00:00Z"), timestamp("2024-05-31T23:00:00Z"), "month", "usd", "Europe/Berlin"))`, "1"},
	} {
		ast, iss := env.Compile(tc.expr)
		if iss.Err() != nil {
			t.Fatal(iss.Err())
		}
		prg, err := env.Program(ast)
		if err != nil {
			t.Fatal(err)
		}
		v, _, err := prg.Eval(cel.NoVars())
		if err != nil {
			t.Fatal(err)
		}
		if got := decimal.NewFromInt(v.Value().(int64)).String(); got != tc.want {
			t.Errorf("%s = %s, want %s", tc.expr, got, tc.want)
		}
	}
	ast, iss := env.Compile(`recognize(decimal("1.00"), timestamp("2024-02-01T00:00:00Z"), timestamp("2024-01-01T00:00:00Z"), "month", "usd")`)
	if iss.Err() != nil {
		t.Fatal(iss.Err())
	}
	prg, _ := env.Program(ast)
	if _, _, err := prg.Eval(cel.NoVars()); err == nil || !strings.HasPrefix(err.Error(), "recognize: ") {
		t.Errorf("got %v, want a recognize: error", err)
	}
}
