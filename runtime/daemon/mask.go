package daemon

import (
	"bytes"
	"encoding/json"
	"strings"
)

// personal names the payload fields the console masks: who a customer is
// and where they live, which operations do not need to read to see why an
// event failed. Ids, amounts, currencies, statuses and metadata keys stay.
// Card numbers never reach flow (gateways send only a brand and last4), but
// their remnants are masked too.
var personal = map[string]bool{
	"name": true, "email": true, "phone": true, "receipt_email": true,
	"line1": true, "line2": true, "city": true, "postal_code": true, "state": true,
	"address": true, "shipping": true, "tax_id": true, "ip": true, "ip_address": true,
	"fingerprint": true, "last4": true, "exp_month": true, "exp_year": true,
	"given_name": true, "surname": true, "full_name": true, "email_address": true,
	"phone_number": true, "national_number": true, "address_line_1": true, "address_line_2": true,
	"admin_area_1": true, "admin_area_2": true,
}

const masked = "•••"

// maskPayload returns a gateway payload as indented JSON with its personal
// fields masked. A payload that is not JSON is not shown at all.
func maskPayload(payload []byte) json.RawMessage {
	d := json.NewDecoder(bytes.NewReader(payload))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return json.RawMessage(`"(not JSON; not shown)"`)
	}
	out, err := json.MarshalIndent(mask(v), "", "  ")
	if err != nil {
		return json.RawMessage(`"(not shown)"`)
	}
	return out
}

func mask(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			if personal[strings.ToLower(k)] && e != nil {
				x[k] = masked
				continue
			}
			x[k] = mask(e)
		}
	case []any:
		for i := range x {
			x[i] = mask(x[i])
		}
	}
	return v
}
