package aif

import (
	"encoding/xml"
	"strconv"
	"strings"

	"github.com/flowhq/flow/stdlib/ax2012"
)

// Fault is a SOAP fault, with AX's AifFault detail when it sent one.
type Fault struct {
	Code   string // faultcode (1.1) or Code/Value (1.2), prefix removed: "Client", "Sender", "Server"
	Reason string // faultstring or Reason/Text
	AIF    *AifFault
}

// AifFault is the detail of FaultException<AifFault>.
type AifFault struct {
	// Messages are the Infolog messages (errors first as AX logged them)
	// followed by the FaultMessageArray messages, as "Code: Message" when
	// they have a code.
	Messages []string
	// ExceptionType is XppExceptionType by name ("Error", "Deadlock",
	// "UpdateConflict", ...), translated from its number when AX sent one.
	ExceptionType string
}

// Text is the fault's most useful line: the AIF messages, else the reason.
func (f *Fault) Text() string {
	if f.AIF != nil && len(f.AIF.Messages) > 0 {
		return strings.Join(f.AIF.Messages, "; ")
	}
	return f.Reason
}

// exceptionNames are X++'s Exception enum values by number.
var exceptionNames = []string{"Info", "Warning", "Deadlock", "Error", "Internal", "Break", "DDEerror", "Sequence",
	"Numeric", "CLRError", "CodeAccessSecurity", "UpdateConflict", "UpdateConflictNotRecovered",
	"DuplicateKeyException", "DuplicateKeyExceptionNotRecovered", "PassClrObjectAcrossTiers"}

func readFault(v Version, n *Node) *Fault {
	f := &Fault{}
	if v == SOAP12 {
		f.Code = n.Path("Code", "Value").Value()
		f.Reason = n.Path("Reason", "Text").Value()
	} else {
		f.Code = n.Child("faultcode").Value()
		f.Reason = n.Child("faultstring").Value()
	}
	if _, local, ok := strings.Cut(f.Code, ":"); ok {
		f.Code = local
	}
	if af := n.Find("AifFault"); af != nil {
		a := &AifFault{}
		for _, m := range af.Path("InfologMessageList").All("InfologMessage") {
			if t := m.Child("Message").Value(); t != "" {
				a.Messages = append(a.Messages, t)
			}
		}
		for _, l := range af.Path("FaultMessageListArray").All("ArrayOfFaultMessage") {
			a.Messages = append(a.Messages, faultMessages(l)...)
		}
		for _, l := range af.Path("FaultMessageListArray").All("FaultMessageList") {
			a.Messages = append(a.Messages, faultMessages(l.Child("FaultMessageArray"))...)
		}
		t := af.Child("XppExceptionType").Value()
		if i, err := strconv.Atoi(t); err == nil && i >= 0 && i < len(exceptionNames) {
			t = exceptionNames[i]
		}
		a.ExceptionType = t
		f.AIF = a
	}
	return f
}

func faultMessages(arr *Node) []string {
	var out []string
	for _, m := range arr.All("FaultMessage") {
		code, msg := m.Child("Code").Value(), m.Child("Message").Value()
		switch {
		case msg == "":
		case code != "":
			out = append(out, code+": "+msg)
		default:
			out = append(out, msg)
		}
	}
	return out
}

// FaultBody writes a fault as AX's WCF host sends it: faultcode Client (or
// Sender), the generic reason, and the AifFault detail.
func FaultBody(v Version, code, reason string, a *AifFault) func(w *Writer) {
	return func(w *Writer) {
		env := v.ns()
		w.Start(env, "Fault")
		if v == SOAP12 {
			w.Start("", "Code")
			w.Text("", "Value", "s:"+code, xml.Attr{Name: xml.Name{Local: "xmlns:s"}, Value: env})
			w.End("Code")
			w.Start("", "Reason")
			w.Text("", "Text", reason, xml.Attr{Name: xml.Name{Space: "http://www.w3.org/XML/1998/namespace", Local: "lang"}, Value: "en-US"})
			w.End("Reason")
			w.Start("", "Detail")
		} else {
			w.Text("", "faultcode", "s:"+code, xml.Attr{Name: xml.Name{Local: "xmlns:s"}, Value: env})
			w.Text("", "faultstring", reason)
			w.Start("", "detail")
		}
		if a != nil {
			w.Start(ax2012.FaultNS, "AifFault")
			w.Text("", "CustomDetailXml", "", nilAttr)
			w.Text("", "FaultMessageListArray", "", nilAttr)
			w.Start("", "InfologMessageList")
			for _, m := range a.Messages {
				w.Start(ax2012.InfologNS, "InfologMessage")
				w.Text("", "InfologMessageType", "Error")
				w.Text("", "Message", m)
				w.End("InfologMessage")
			}
			w.End("InfologMessageList")
			w.Text("", "StackTrace", "", nilAttr)
			w.Text("", "XppExceptionType", a.ExceptionType)
			w.End("AifFault")
		}
		if v == SOAP12 {
			w.End("Detail")
		} else {
			w.End("detail")
		}
		w.End("Fault")
	}
}
