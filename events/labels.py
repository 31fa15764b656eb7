"""The data labels a prompt, paste or upload can carry; shared by the classifiers, the extension and the collector."""

from __future__ import annotations

from enum import StrEnum


class DataLabel(StrEnum):
    PII = "pii"
    PHI = "phi"
    PAYMENT_CARD = "payment_card"
    FINANCIAL = "financial"
    LEGAL = "legal"
    CREDENTIALS = "credentials"

    @property
    def definition(self) -> str:
        return _DEFINITIONS[self]


_DEFINITIONS = {
    DataLabel.PII: "Personal data about an identifiable person: a name with contact details or identifiers, "
    "e-mail addresses, phone numbers, postal addresses, government ids, dates of birth.",
    DataLabel.PHI: "Health information about an identifiable person: diagnoses, medications, procedures, "
    "medical record numbers, insurance ids.",
    DataLabel.PAYMENT_CARD: "Payment card numbers (Luhn-valid, with corroborating context), CVV or expiry next to "
    "a card.",
    DataLabel.FINANCIAL: "Non-public corporate financial information (unreleased results, forecasts, deal "
    "terms, statement tables) and bank account, routing, IBAN or SWIFT details.",
    DataLabel.LEGAL: "Contract text and clauses, privileged attorney-client communication, litigation "
    "material, NDAs and settlements.",
    DataLabel.CREDENTIALS: "API keys, tokens, passwords, private keys, connection strings with secrets.",
}
