package aif

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/flowhq/flow/stdlib/ax2012"
)

// Version is a SOAP version.
type Version int

const (
	SOAP11 Version = iota // text/xml with a SOAPAction header (basicHttpBinding)
	SOAP12                // application/soap+xml;action=..., WS-Addressing headers
)

// SOAP and WS-Addressing namespaces.
const (
	SOAP11NS      = "http://schemas.xmlsoap.org/soap/envelope/"
	SOAP12NS      = "http://www.w3.org/2003/05/soap-envelope"
	AddressingNS  = "http://www.w3.org/2005/08/addressing"
	ArraysNS      = "http://schemas.microsoft.com/2003/10/Serialization/Arrays"
	actionPrefix  = ax2012.ServicesNS + "/"
	soap11Content = "text/xml; charset=utf-8"
)

func (v Version) ns() string {
	if v == SOAP12 {
		return SOAP12NS
	}
	return SOAP11NS
}

// ContentType is the Content-Type of a message; SOAP 1.2 carries the action.
func (v Version) ContentType(action string) string {
	if v == SOAP12 {
		return mime.FormatMediaType("application/soap+xml", map[string]string{"charset": "utf-8", "action": action})
	}
	return soap11Content
}

// Action is the SOAP action of a service operation:
// http://schemas.microsoft.com/dynamics/2008/01/services/SalesOrderService/create.
func Action(service, op string) string { return actionPrefix + service + "/" + op }

// SplitAction returns the service and operation of an action.
func SplitAction(action string) (service, op string, ok bool) {
	rest, ok := strings.CutPrefix(strings.Trim(action, `"`), actionPrefix)
	if !ok {
		return "", "", false
	}
	service, op, ok = strings.Cut(rest, "/")
	return service, op, ok && service != "" && op != "" && !strings.Contains(op, "/")
}

// Wrapper is the body element of a request or response:
// SalesOrderServiceCreateRequest, SalesOrderServiceCreateResponse.
func Wrapper(service, op, kind string) string {
	if op == "" {
		return service + kind
	}
	return service + strings.ToUpper(op[:1]) + op[1:] + kind
}

// CallContext is AIF's call context header. Empty values are sent as
// xsi:nil, and AX uses its defaults for them.
type CallContext struct {
	Company      string
	Language     string
	LogonAsUser  string
	MessageID    string
	PartitionKey string
}

// Message is a SOAP message being written.
type Message struct {
	Version Version
	Action  string
	To      string       // endpoint URL, for WS-Addressing (SOAP 1.2)
	Context *CallContext // nil on answers
	// Body writes the body's content (one wrapper element); nil for none.
	Body func(w *Writer)
}

// Write encodes m.
func (m Message) Write(w *Writer) error {
	env := m.Version.ns()
	w.Start(env, "Envelope")
	if m.Context != nil || m.Version == SOAP12 {
		w.Start("", "Header")
		if m.Version == SOAP12 {
			w.Text(AddressingNS, "Action", m.Action, xml.Attr{Name: xml.Name{Space: env, Local: "mustUnderstand"}, Value: "1"})
			if m.To != "" {
				w.Text(AddressingNS, "To", m.To)
			}
		}
		if c := m.Context; c != nil {
			w.Start(ax2012.CallContextNS, "CallContext")
			for _, f := range []struct{ name, value string }{
				{"Company", c.Company}, {"Language", c.Language}, {"LogonAsUser", c.LogonAsUser},
				{"MessageId", c.MessageID}, {"PartitionKey", c.PartitionKey},
			} {
				if f.value == "" {
					w.Text("", f.name, "", nilAttr)
					continue
				}
				w.Text("", f.name, f.value)
			}
			w.End("CallContext")
		}
		w.End("Header")
	}
	w.Start(env, "Body")
	if m.Body != nil {
		m.Body(w)
	}
	w.End("Body")
	w.End("Envelope")
	return w.Flush()
}

// Bytes encodes m into a new buffer.
func (m Message) Bytes() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := m.Write(NewWriter(&b)); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

var nilAttr = xml.Attr{Name: xml.Name{Space: xsiNS, Local: "nil"}, Value: "true"}

// Envelope is a parsed SOAP message.
type Envelope struct {
	Version Version
	Action  string       // from WS-Addressing, when present
	Context *CallContext // nil when the header has none
	Body    *Node        // the body's first element; nil when empty
	Fault   *Fault       // set when Body is a Fault
}

// ReadEnvelope parses a SOAP 1.1 or 1.2 message.
func ReadEnvelope(data []byte) (*Envelope, error) {
	root, err := Parse(data)
	if err != nil {
		return nil, err
	}
	e := &Envelope{}
	switch {
	case root.Name.Local != "Envelope":
		return nil, fmt.Errorf("not a SOAP envelope: the root element is <%s>", root.Name.Local)
	case root.Name.Space == SOAP11NS:
		e.Version = SOAP11
	case root.Name.Space == SOAP12NS:
		e.Version = SOAP12
	default:
		return nil, fmt.Errorf("not a SOAP envelope: namespace %q", root.Name.Space)
	}
	if h := root.Child("Header"); h != nil {
		if a := h.Child("Action"); a != nil && a.Name.Space == AddressingNS {
			e.Action = a.Text
		}
		if c := h.Child("CallContext"); c != nil {
			e.Context = &CallContext{}
			for _, f := range []struct {
				name string
				to   *string
			}{{"Company", &e.Context.Company}, {"Language", &e.Context.Language}, {"LogonAsUser", &e.Context.LogonAsUser},
				{"MessageId", &e.Context.MessageID}, {"PartitionKey", &e.Context.PartitionKey}} {
				if n := c.Child(f.name); n != nil && !n.Nil() {
					*f.to = n.Text
				}
			}
		}
	}
	body := root.Child("Body")
	if body == nil {
		return nil, errors.New("SOAP envelope without a Body")
	}
	if len(body.Children) > 0 {
		e.Body = body.Children[0]
	}
	if e.Body != nil && e.Body.Name.Local == "Fault" && e.Body.Name.Space == root.Name.Space {
		e.Fault = readFault(e.Version, e.Body)
	}
	return e, nil
}

// MessageID derives a message id from a name (an idempotency key with the
// operation it is for): a version 5 (SHA-1) UUID in AIF's braced form, so
// that every attempt of one write carries the same id and AIF's duplicate
// message check can recognize a retry.
func MessageID(name string) string {
	h := sha1.New()
	h.Write(messageNamespace[:])
	h.Write([]byte(name))
	var u [16]byte
	copy(u[:], h.Sum(nil))
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	s := hex.EncodeToString(u[:])
	return strings.ToUpper("{" + s[:8] + "-" + s[8:12] + "-" + s[12:16] + "-" + s[16:20] + "-" + s[20:] + "}")
}

// messageNamespace is the UUID namespace of flow's AIF message ids
// (a fixed random UUID: 6f6c6f77-2d61-4978-8a32-3031322d6d73).
var messageNamespace = [16]byte{0x6f, 0x6c, 0x6f, 0x77, 0x2d, 0x61, 0x49, 0x78, 0x8a, 0x32, 0x30, 0x31, 0x32, 0x2d, 0x6d, 0x73}

// NormalizeMessageID makes ids that differ in case or braces compare equal.
func NormalizeMessageID(id string) string {
	return strings.ToUpper(strings.Trim(strings.TrimSpace(id), "{}"))
}
