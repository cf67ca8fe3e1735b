// Package hook is the schema of the outbound notification hook connector:
// flows send notices (a dunning notice, an alert to the AR team) to an HTTP
// endpoint the import configures.
//
//	import "hook" as notify {
//	    url: dunning_hook_url,        // a param or a string: where notices are POSTed
//	    secret: dunning_hook_secret,  // optional: a secret; signs each delivery
//	}
//
//	create notify.Notice key "dunning:" + invoice + ":" + string(attempt) {
//	    topic: "dunning.declined",
//	    subject: "Payment declined for invoice " + invoice,
//	    text: sale.approval_message,
//	    fields: {"invoice": invoice, "customer": account},
//	}
//
// The connector has no events: flows only create notices. A create binds
// hook.Notice: the delivery id, the HTTP status the endpoint answered and
// when. Delivery is at least once: the runtime (runtime/hook) sends every
// attempt of one key with the same id, which receivers dedupe on.
//
// Load checks a url given as a string when the flow is compiled (https, or
// http to a loopback host); a url given as a param is checked when flowd
// starts.
package hook
