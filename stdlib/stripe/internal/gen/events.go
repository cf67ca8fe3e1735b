package main

import (
	"sort"
	"strings"
)

// subjects maps an event-name prefix to the stripe-go type of the event's
// data.object. The longest matching prefix wins: "charge.dispute." before
// "charge.". A prefix whose type is missing from stripe-go (a resource the
// library dropped) leaves its events out; main reports them.
var subjects = map[string]string{
	"account.":                           "Account",
	"account.application.":               "Application",
	"account.external_account.":          "AccountExternalAccount", // a card or a bank account
	"application_fee.":                   "ApplicationFee",
	"application_fee.refund.":            "FeeRefund",
	"balance.":                           "Balance",
	"billing_portal.configuration.":      "BillingPortalConfiguration",
	"billing_portal.session.":            "BillingPortalSession",
	"capability.":                        "Capability",
	"cash_balance.":                      "CashBalance",
	"charge.":                            "Charge",
	"charge.dispute.":                    "Dispute",
	"charge.refund.":                     "Refund",
	"checkout.session.":                  "CheckoutSession",
	"climate.order.":                     "ClimateOrder",
	"climate.product.":                   "ClimateProduct",
	"coupon.":                            "Coupon",
	"credit_note.":                       "CreditNote",
	"customer.":                          "Customer",
	"customer.discount.":                 "Discount",
	"customer.source.":                   "PaymentSource", // a card, a bank account or a source
	"customer.subscription.":             "Subscription",
	"customer.tax_id.":                   "TaxID",
	"customer_cash_balance_transaction.": "CustomerCashBalanceTransaction",
	"file.":                              "File",
	"financial_connections.account.":     "FinancialConnectionsAccount",
	"identity.verification_session.":     "IdentityVerificationSession",
	"invoice.":                           "Invoice",
	"invoiceitem.":                       "InvoiceItem",
	"issuing_authorization.":             "IssuingAuthorization",
	"issuing_card.":                      "IssuingCard",
	"issuing_cardholder.":                "IssuingCardholder",
	"issuing_dispute.":                   "IssuingDispute",
	"issuing_token.":                     "IssuingToken",
	"issuing_transaction.":               "IssuingTransaction",
	"mandate.":                           "Mandate",
	"order.":                             "Order", // removed from stripe-go: left out
	"payment_intent.":                    "PaymentIntent",
	"payment_link.":                      "PaymentLink",
	"payment_method.":                    "PaymentMethod",
	"payout.":                            "Payout",
	"person.":                            "Person",
	"plan.":                              "Plan",
	"price.":                             "Price",
	"product.":                           "Product",
	"promotion_code.":                    "PromotionCode",
	"quote.":                             "Quote",
	"radar.early_fraud_warning.":         "RadarEarlyFraudWarning",
	"recipient.":                         "Recipient", // removed from stripe-go: left out
	"refund.":                            "Refund",
	"reporting.report_run.":              "ReportingReportRun",
	"reporting.report_type.":             "ReportingReportType",
	"review.":                            "Review",
	"setup_intent.":                      "SetupIntent",
	"sigma.scheduled_query_run.":         "SigmaScheduledQueryRun",
	"sku.":                               "SKU", // removed from stripe-go: left out
	"source.":                            "Source",
	"source.transaction.":                "SourceTransaction",
	"subscription_schedule.":             "SubscriptionSchedule",
	"tax.settings.":                      "TaxSettings",
	"tax_rate.":                          "TaxRate",
	"terminal.reader.":                   "TerminalReader",
	"test_helpers.test_clock.":           "TestHelpersTestClock",
	"topup.":                             "Topup",
	"transfer.":                          "Transfer",
	"treasury.credit_reversal.":          "TreasuryCreditReversal",
	"treasury.debit_reversal.":           "TreasuryDebitReversal",
	"treasury.financial_account.":        "TreasuryFinancialAccount",
	"treasury.inbound_transfer.":         "TreasuryInboundTransfer",
	"treasury.outbound_payment.":         "TreasuryOutboundPayment",
	"treasury.outbound_transfer.":        "TreasuryOutboundTransfer",
	"treasury.received_credit.":          "TreasuryReceivedCredit",
	"treasury.received_debit.":           "TreasuryReceivedDebit",
}

// event is one mapped event: its name and subject type.
type event struct{ Name, Subject string }

// mapEvents maps every EventType constant of stripe-go. It returns the mapped
// events (sorted by name) and the names left out, each with a reason.
func mapEvents(lib *library) (mapped []event, left []string) {
	names := append([]string(nil), lib.consts["EventType"]...)
	sort.Strings(names)
	for _, name := range names {
		best := ""
		for prefix := range subjects {
			if strings.HasPrefix(name, prefix) && len(prefix) > len(best) {
				best = prefix
			}
		}
		switch subject := subjects[best]; {
		case best == "":
			left = append(left, name+": no subject prefix in the table")
		case lib.types[subject] == nil:
			left = append(left, name+": stripe-go has no type "+subject)
		default:
			mapped = append(mapped, event{name, subject})
		}
	}
	return mapped, left
}
