package main

import (
	"regexp"
	"strings"
)

// moneyDoc matches doc comments that describe an amount in minor units.
var moneyDoc = regexp.MustCompile("(?i)smallest currency unit|currency's smallest unit|in cents|\\(in %s\\)|\\(in the `?currency`? specified\\)|minor units?\\b")

// moneyOverride fixes what the heuristics get wrong: true forces Minor,
// false forces Int. Keys are GoType.json_name. Review the generator's stderr
// list of Minor fields when stripe-go is upgraded. A list or map of int only
// becomes Minor through this table.
var moneyOverride = map[string]bool{
	// Maps of currency code -> amount.
	"Amount.source_types":                              true,
	"CashBalance.available":                            true,
	"Customer.invoice_credit_balance":                  true,
	"FinancialConnectionsAccountBalance.current":       true,
	"FinancialConnectionsAccountBalanceCash.available": true,
	"FinancialConnectionsAccountBalanceCredit.used":    true,
	"TreasuryFinancialAccountBalance.cash":             true,
	"TreasuryFinancialAccountBalance.inbound_pending":  true,
	"TreasuryFinancialAccountBalance.outbound_pending": true,
	// Amounts whose currency is a sibling field with another name, or the
	// payment's: the objects have no "currency" of their own.
	"PromotionCodeRestrictions.minimum_amount":                            true,
	"PromotionCodeRestrictionsCurrencyOptions.minimum_amount":             true,
	"TerminalReaderActionRefundPayment.amount":                            true,
	"CouponCurrencyOptions.amount_off":                                    true,
	"ChargePaymentMethodDetailsCardOvercapture.maximum_amount_capturable": true,
	// Price bounds: amounts in the price's currency.
	"PriceCustomUnitAmount.maximum":                true,
	"PriceCustomUnitAmount.minimum":                true,
	"PriceCustomUnitAmount.preset":                 true,
	"PriceCurrencyOptionsCustomUnitAmount.maximum": true,
	"PriceCurrencyOptionsCustomUnitAmount.minimum": true,
	"PriceCurrencyOptionsCustomUnitAmount.preset":  true,
}

// moneyReason returns why an int field is an amount in minor units, or "".
// hasCurrency says the object, or the object it is nested in (by stripe-go's
// naming: ChargeLevel3LineItem is nested in Charge), has a currency.
func moneyReason(key, name, doc string, hasCurrency bool) string {
	if v, ok := moneyOverride[key]; ok {
		if v {
			return "override"
		}
		return ""
	}
	if moneyDoc.MatchString(doc) {
		return "doc"
	}
	if hasCurrency && moneyName(name) {
		return "name"
	}
	return ""
}

// moneyName matches the field names Stripe uses for amounts.
func moneyName(name string) bool {
	switch name {
	case "amount", "fee", "net", "tax", "total", "subtotal", "total_excluding_tax", "subtotal_excluding_tax",
		"balance", "starting_balance", "ending_balance", "unit_cost", "atm_fee":
		return true
	}
	return strings.HasPrefix(name, "amount_") || strings.HasSuffix(name, "_amount")
}

// timestampDoc matches the doc of a Unix timestamp field.
var timestampDoc = regexp.MustCompile(`(?i)seconds since (the )?(unix )?epoch|timestamp|unix epoch|epoch seconds|^(the )?(date|time)\b|(time|date) (at|on|by|after|before) which`)

// timestampNames are timestamps whose name and doc do not say so.
var timestampNames = map[string]bool{
	"created": true, "available_on": true, "arrival_date": true, "start": true, "end": true,
	"deadline": true, "current_deadline": true, "trial_start": true, "trial_end": true,
	"period_start": true, "period_end": true, "current_period_start": true, "current_period_end": true,
	"billing_cycle_anchor": true, "next_payment_attempt": true, "next_pending_invoice_item_invoice": true,
	"frozen_time": true, "deletes_after": true, "interval_start": true, "interval_end": true,
	"data_load_time": true, "result_available_until": true, "capture_before": true, "due_by": true, "redeem_by": true,
}

// isTimestamp reports whether an int field holds Unix seconds.
func isTimestamp(name, doc string) bool {
	return timestampNames[name] || strings.HasSuffix(name, "_at") || strings.HasSuffix(name, "_date") ||
		timestampDoc.MatchString(doc)
}
