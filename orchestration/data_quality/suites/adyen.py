"""raw_adyen: Adyen Settlement details reports dropped in the inbox (amounts in major units)."""
from connectors.adyen import settlement_details
from orchestration.data_quality.expectations import bounded, currency_codes, in_set, non_negative, not_null
from orchestration.data_quality.suites import SourceSuite

LIMIT = 1_000_000_000  # major units
# The record types of Adyen's Settlement details report ("Type" column)
RECORD_TYPES = (
    "Settled", "SettledBulk", "SettledExternally", "SettledExternallyWithInfo", "SettledReversed",
    "SettledInInstallments", "Refunded", "RefundedBulk", "RefundedExternally", "RefundedExternallyWithInfo",
    "RefundedReversed", "RefundedInInstallments", "Chargeback", "ChargebackExternally",
    "ChargebackExternallyWithInfo", "ChargebackReversed", "ChargebackReversedExternallyWithInfo",
    "SecondChargeback", "Fee", "MiscCosts", "MerchantPayout", "MerchantPayoutReversed", "DepositCorrection",
    "InvoiceDeduction", "PaymentCost", "ManualCorrected", "Balancetransfer", "ReserveAdjustment",
    "AdvancementCommissionExternallyWithInfo", "CashOutFee", "CashOutFunding", "CashOutInstruction",
    "Correction", "Credited", "InvoicePayment", "ReturnedToBank", "Withdrawal")
FEES = ("commission", "markup", "scheme_fees", "interchange", "payment_fees", "dcc_markup", "gross_fees")

SUITE = SourceSuite(raw=settlement_details, tables={
    "settlement_details": [
        *not_null("merchant_account", "batch_number", "line_number", "record_type", "created_at",
                  "modification_reference", "net_currency"),
        in_set("record_type", RECORD_TYPES, "Adyen settlement detail record type"),
        *non_negative("batch_number", "line_number"),
        *bounded("gross_amount", "net_amount", *FEES, limit=LIMIT),
        *currency_codes("gross_currency", "net_currency"),
    ],
})
