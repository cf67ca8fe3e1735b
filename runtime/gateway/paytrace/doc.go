// Package paytrace is flowd's PayTrace client (JSON API v1) and poller.
//
// PayTrace sends no webhooks for API v1, so flowd polls: the Poller
// exports the transactions of a date range (POST
// /v1/transactions/export/by_date_range), makes one event of each
// ({"gateway": "paytrace", "id": "<transaction_id>", "type":
// "transaction.sale", "created": RFC 3339, "transaction": {...}}, typed by
// stdlib/paytrace) and puts it in the same durable inbox webhooks go to,
// under the id "paytrace:<transaction_id>", so a transaction exported twice
// is stored once. A cursor in the store says from which day the next poll
// exports; it moves only once every transaction before it is in the inbox,
// so a restart neither misses nor repeats one.
//
// The Client gets an OAuth token with the password grant (POST
// /oauth/token; PayTrace's tokens last 7200 s) and keeps it until shortly
// before it expires. PayTrace's answers are mapped to errors a caller can
// act on: a *Decline (the card or the processor said no: do not retry), an
// *APIError (the request was wrong: response_code 1 and its errors map,
// or a refused token), and ErrUnavailable (PayTrace could not be reached,
// answered 429 or 5xx, or sent something that is not its JSON: retry
// later). Amounts, which PayTrace sends as numbers or strings, become
// exact decimals; its dates ("4/10/2015 4:06:30 PM", no zone) are read in
// the merchant's time zone.
//
// The Client is also the erp.Driver flows write to (writer.go): `create
// paytrace.Sale` charges a stored customer profile (POST
// /v1/transactions/sale/by_customer). A decline is a record with approved
// false, not an error; a sale whose answer was lost is in doubt, and Find
// settles it from the export, since PayTrace takes no idempotency key.
package paytrace
