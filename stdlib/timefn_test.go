package stdlib

import (
	"fmt"
	"testing"
	"time"
)

func TestTimeFunctions(t *testing.T) {
	// One second before and after midnight in Tokyo on New Year's Eve.
	beforeTokyo := time.Date(2024, 12, 31, 14, 59, 59, 0, time.UTC).Unix()
	afterTokyo := time.Date(2024, 12, 31, 15, 0, 0, 0, time.UTC).Unix()
	runEvalCases(t, newTestEnv(t), []evalCase{
		{name: "unix epoch", src: `unix(0) == timestamp("1970-01-01T00:00:00Z")`, want: "true"},
		{name: "unix", src: `unix(secs) == timestamp("2024-03-10T04:30:00Z")`, want: "true"},
		{name: "unix out of range", src: `unix(999999999999)`, wantErr: "unix: 999999999999 seconds is outside the timestamp range"},
		{name: "date new york still the 9th", src: `date(secs, "America/New_York") == timestamp("2024-03-09T00:00:00Z")`, want: "true"},
		{name: "date berlin already the 10th", src: `date(secs, "Europe/Berlin") == timestamp("2024-03-10T00:00:00Z")`, want: "true"},
		{name: "date utc", src: `date(secs, "UTC") == timestamp("2024-03-10T00:00:00Z")`, want: "true"},
		{name: "date timestamp", src: `date(ts, "America/Los_Angeles") == timestamp("2024-03-09T00:00:00Z")`, want: "true"},
		{name: "date before tokyo midnight", src: `date(x, "Asia/Tokyo") == timestamp("2024-12-31T00:00:00Z")`, vars: map[string]any{"x": beforeTokyo}, want: "true"},
		{name: "date after tokyo midnight", src: `date(x, "Asia/Tokyo") == timestamp("2025-01-01T00:00:00Z")`, vars: map[string]any{"x": afterTokyo}, want: "true"},
		{name: "date unknown zone", src: `date(secs, "Mars/Olympus_Mons")`, wantErr: `date: unknown time zone "Mars/Olympus_Mons"`},
		{name: "date empty zone", src: `date(secs, "")`, wantErr: `date: time zone "" is not allowed`},
		{name: "date local zone", src: `date(secs, "Local")`, wantErr: `date: time zone "Local" is not allowed`},
		{name: "format new york", src: `format_time(secs, "YYYY-MM-DD HH:mm:ss", "America/New_York")`, want: "2024-03-09 23:30:00"},
		{name: "format berlin", src: `format_time(secs, "DD.MM.YYYY HH:mm", "Europe/Berlin")`, want: "10.03.2024 05:30"},
		{name: "format iso utc", src: `format_time(ts, "YYYY-MM-DDTHH:mm:ss.SSSZ", "UTC")`, want: "2024-03-10T04:30:00.250Z"},
		{name: "format literal text", src: `format_time(secs, "day DD of MM", "UTC")`, want: "day 10 of 03"},
		{name: "format after tokyo midnight", src: `format_time(x, "YYYY-MM-DD", "Asia/Tokyo")`, vars: map[string]any{"x": afterTokyo}, want: "2025-01-01"},
		{name: "format unknown zone", src: `format_time(ts, "YYYY", "Nowhere")`, wantErr: `format_time: unknown time zone "Nowhere"`},
	})
}

func TestNowFixedClock(t *testing.T) {
	fixed := time.Date(2025, 1, 2, 3, 4, 5, 0, time.FixedZone("X", 3600))
	env := newTestEnv(t, WithClock(func() time.Time { return fixed }))
	runEvalCases(t, env, []evalCase{
		{name: "now", src: `now() == timestamp("2025-01-02T02:04:05Z")`, want: "true"},
		{name: "now formatted", src: `format_time(now(), "YYYY-MM-DD HH:mm", "Europe/Berlin")`, want: "2025-01-02 03:04"},
		{name: "now is after secs", src: `now() > unix(secs)`, want: "true"},
	})
}

func TestNowDefaultClock(t *testing.T) {
	before := time.Now()
	v, err := evalExpr(t, newTestEnv(t), `now()`, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, ok := v.Value().(time.Time)
	if !ok || got.Before(before.Add(-time.Second)) || got.After(time.Now().Add(time.Second)) {
		t.Fatalf("now() = %v; want about %v", v, before)
	}
}

func TestFormatTime(t *testing.T) {
	at := time.Date(2024, 2, 29, 7, 8, 9, 12_000_000, time.UTC)
	cases := []struct {
		layout, want string
	}{
		{"YYYY-MM-DD", "2024-02-29"},
		{"HH:mm:ss.SSS", "07:08:09.012"},
		{"MM/DD/YYYY", "02/29/2024"},
		{"YYYYMMDD", "20240229"},
		{"Mon Jan 2 15:04", "Mon Jan 2 15:04"}, // Go layout words are literal text
		{"", ""},
	}
	for _, tc := range cases {
		t.Run(tc.layout, func(t *testing.T) {
			if got := FormatTime(at, tc.layout); got != tc.want {
				t.Errorf("FormatTime(%q) = %q; want %q", tc.layout, got, tc.want)
			}
		})
	}
}

func TestCalendarDate(t *testing.T) {
	for _, zone := range []string{"UTC", "America/New_York", "Pacific/Kiritimati", "Pacific/Pago_Pago"} {
		t.Run(zone, func(t *testing.T) {
			loc, err := (&zoneCache{}).load(zone)
			if err != nil {
				t.Fatal(err)
			}
			got := CalendarDate(midnightEdge, loc)
			y, m, d := midnightEdge.In(loc).Date()
			if want := fmt.Sprintf("%04d-%02d-%02dT00:00:00Z", y, m, d); got.Format(time.RFC3339) != want {
				t.Errorf("CalendarDate = %s; want %s", got.Format(time.RFC3339), want)
			}
		})
	}
}
