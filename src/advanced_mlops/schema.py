"""The credit-score data schema shared by generation, cleaning, training and serving."""

from __future__ import annotations

from typing import Final

NUMERIC_FEATURES: Final = (
    "age",
    "annual_income",
    "monthly_inhand_salary",
    "num_bank_accounts",
    "num_credit_card",
    "interest_rate",
    "num_of_loan",
    "delay_from_due_date",
    "num_of_delayed_payment",
    "changed_credit_limit",
    "num_credit_inquiries",
    "outstanding_debt",
    "credit_utilization_ratio",
    "credit_history_age",
    "total_emi_per_month",
    "amount_invested_monthly",
    "monthly_balance",
)
CATEGORICAL_FEATURES: Final = (
    "occupation",
    "credit_mix",
    "payment_of_min_amount",
    "payment_behaviour",
)
TEXT_FEATURES: Final = ("type_of_loan",)
FEATURES: Final = NUMERIC_FEATURES + CATEGORICAL_FEATURES + TEXT_FEATURES

ID_COLUMNS: Final = ("customer_id", "date", "name", "ssn")
LABEL: Final = "credit_score"
RAW_COLUMNS: Final = (*ID_COLUMNS, *FEATURES, LABEL)

CLASSES: Final = ("Poor", "Standard", "Good")

OCCUPATIONS: Final = (
    "Scientist",
    "Teacher",
    "Engineer",
    "Entrepreneur",
    "Developer",
    "Lawyer",
    "Media_Manager",
    "Doctor",
    "Journalist",
    "Manager",
    "Accountant",
    "Musician",
    "Mechanic",
    "Writer",
    "Architect",
)
CREDIT_MIX: Final = ("Good", "Standard", "Bad")
PAYMENT_OF_MIN_AMOUNT: Final = ("Yes", "No", "NM")
PAYMENT_BEHAVIOUR: Final = tuple(
    f"{spent}_spent_{size}_value_payments"
    for spent in ("Low", "High")
    for size in ("Small", "Medium", "Large")
)
LOAN_TYPES: Final = (
    "Auto Loan",
    "Credit-Builder Loan",
    "Personal Loan",
    "Home Equity Loan",
    "Mortgage Loan",
    "Student Loan",
    "Debt Consolidation Loan",
    "Payday Loan",
    "Not Specified",
)
CATEGORIES: Final[dict[str, tuple[str, ...]]] = {
    "occupation": OCCUPATIONS,
    "credit_mix": CREDIT_MIX,
    "payment_of_min_amount": PAYMENT_OF_MIN_AMOUNT,
    "payment_behaviour": PAYMENT_BEHAVIOUR,
}

# Plausible ranges after cleaning; values outside are treated as missing (the public data's
# absurd outliers). The same bounds validate requests in the service.
NUMERIC_RANGES: Final[dict[str, tuple[float, float]]] = {
    "age": (14, 100),
    "annual_income": (1_000, 1_000_000),
    "monthly_inhand_salary": (0, 100_000),
    "num_bank_accounts": (0, 20),
    "num_credit_card": (0, 20),
    "interest_rate": (0, 40),
    "num_of_loan": (0, 12),
    "delay_from_due_date": (-10, 90),
    "num_of_delayed_payment": (0, 40),
    "changed_credit_limit": (-40, 60),
    "num_credit_inquiries": (0, 30),
    "outstanding_debt": (0, 10_000),
    "credit_utilization_ratio": (0, 100),
    "credit_history_age": (0, 600),
    "total_emi_per_month": (0, 5_000),
    "amount_invested_monthly": (0, 10_000),
    "monthly_balance": (-5_000, 10_000),
}
INTEGER_FEATURES: Final = frozenset(
    {
        "age",
        "num_bank_accounts",
        "num_credit_card",
        "num_of_loan",
        "delay_from_due_date",
        "num_of_delayed_payment",
        "num_credit_inquiries",
        "credit_history_age",
    }
)
