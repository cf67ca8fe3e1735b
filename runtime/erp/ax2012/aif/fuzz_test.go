package aif

import (
	"testing"

	"github.com/flowhq/flow/stdlib/ax2012"
)

func FuzzReadEnvelope(f *testing.F) {
	f.Add([]byte(`<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Header><CallContext xmlns="http://schemas.microsoft.com/dynamics/2010/01/datacontracts"><Company>dat</Company></CallContext></s:Header><s:Body><s:Fault><faultcode>s:Client</faultcode><detail><AifFault xmlns="http://schemas.microsoft.com/dynamics/2008/01/documents/Fault"><InfologMessageList><InfologMessage><Message>x</Message></InfologMessage></InfologMessageList><XppExceptionType>3</XppExceptionType></AifFault></detail></s:Fault></s:Body></s:Envelope>`))
	f.Add([]byte(`<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body><SalesOrderServiceReadResponse><SalesOrder><SalesTable><SalesLine/></SalesTable></SalesOrder><EntityKeyList><EntityKey><KeyData><KeyField/></KeyData></EntityKey></EntityKeyList><QueryCriteria><CriteriaElement/></QueryCriteria></SalesOrderServiceReadResponse></s:Body></s:Envelope>`))
	tables := ax2012.Tables()
	f.Fuzz(func(t *testing.T, data []byte) {
		env, err := ReadEnvelope(data)
		if err != nil {
			return
		}
		if env.Fault != nil {
			_ = env.Fault.Text()
		}
		_, _ = ReadEntityKeyList(env.Body)
		_, _ = ReadQueryCriteria(env.Body)
		for _, tb := range tables {
			if tb.Parent == "" {
				_, _ = ReadDocument(env.Body, tb)
			}
		}
	})
}

// What Message writes, ReadEnvelope reads back.
func TestRoundTrip(t *testing.T) {
	for _, v := range []Version{SOAP11, SOAP12} {
		st := ax2012.Tables()["CustTable"]
		b, err := Message{Version: v, Action: Action("CustomerService", "create"), To: "http://x",
			Context: &CallContext{Company: "dat", MessageID: MessageID("k")},
			Body: func(w *Writer) {
				w.Start(ax2012.ServicesNS, Wrapper("CustomerService", "create", "Request"))
				WriteDocument(w, st, []*Entity{{Fields: map[string]string{"AccountNum": "a<&>", "Name": "Ada", "NameAlias": "ada"}}})
				w.End(Wrapper("CustomerService", "create", "Request"))
			}}.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		env, err := ReadEnvelope(b)
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if env.Version != v || env.Context.Company != "dat" || env.Context.MessageID != MessageID("k") || env.Context.Language != "" {
			t.Fatalf("envelope = %+v", env)
		}
		ents, err := ReadDocument(env.Body, st)
		if err != nil || len(ents) != 1 || ents[0].Fields["AccountNum"] != "a<&>" || ents[0].Fields["Name"] != "Ada" || ents[0].Fields["NameAlias"] != "ada" {
			t.Fatalf("entities = %+v, %v\n%s", ents, err, b)
		}
		if len(env.Body.Child("Customer").Child("CustTable").All("DirParty")) != 1 {
			t.Fatalf("DirParty fields are not grouped:\n%s", b)
		}
	}
}

func TestMessageID(t *testing.T) {
	a, b := MessageID("stripe:ch_1"), MessageID("stripe:ch_2")
	if a == b || a != MessageID("stripe:ch_1") || len(a) != 38 || a[15] != '5' {
		t.Fatalf("ids %s %s", a, b)
	}
	if NormalizeMessageID("{"+a[1:37]+"}") != NormalizeMessageID(a[1:37]) {
		t.Fatal("normalize")
	}
}
