// Package paytrace is the PayTrace connector's schema: the transactions
// flowd's poller reads from PayTrace's export API (JSON API v1,
// POST /v1/transactions/export/by_date_range) and the events it makes of
// them. PayTrace sends no webhooks for API v1, so every PayTrace event is
// a transaction the poller found: `on paytrace.transaction.sale as ev`,
// with the transaction in ev.transaction.
//
// Amounts are decimals (dollars, exact: PayTrace answers 110 or "8.10"),
// never floats; PayTrace's times ("4/10/2015 4:06:30 PM", no zone) are
// timestamps read in the merchant's time zone, which the import declares:
//
//	import "paytrace" {
//	    username: paytrace_username,   // secrets
//	    password: paytrace_password,
//	    integrator_id: paytrace_integrator_id,
//	    poll: "*/5 * * * *",           // how often flowd polls the export
//	    timezone: "America/Chicago",   // the merchant's zone
//	}
//
// Flows also create sales against customer profiles stored in PayTrace
// (`create paytrace.Sale key ... { customer_id: ..., amount: ... }`); see
// creates.go.
package paytrace
