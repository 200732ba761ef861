"""A deterministic simulator of the public credit-score panel, one day at a time.

Each customer has a monthly statement day and produces one record per 30-day period, so every day
carries about 1/30 of the population. A customer's credit quality `z` is a persistent trait plus
an AR(1) term over periods: labels are sticky but change. The observed features are noisy
functions of `z`; the label is `z` plus noise, cut at the class shares of the public data.
Everything is a pure function of (seed, day), so any day can be regenerated alone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
import pandas as pd

from advanced_mlops import schema
from advanced_mlops.data.cleaning import to_number
from advanced_mlops.data.scenarios import Scenario, ScenarioName

EPOCH = date(2025, 1, 1)
PERIOD_DAYS = 30
AR_RHO = 0.7
AR_MEMORY = 16  # periods kept from the AR(1) sum; rho**16 < 0.4 %
TRAIT_SHARE = 0.6  # share of z's variance that is a fixed trait of the customer
LABEL_NOISE = 0.55  # std of the label noise on top of z; sets the achievable macro-F1
# Cuts of a standard normal giving Poor 29 %, Standard 53 %, Good 18 %.
POOR_CUT, GOOD_CUT = -0.553, 0.915

FIRST_NAMES = (
    "Aaron", "Maya", "Noah", "Lena", "Omar", "Sofia", "Ivan", "Chloe", "Ravi", "Hana",
    "Lucas", "Emma", "Kenji", "Zara", "Mateo", "Nora", "Felix", "Amara", "Jonas", "Yuna",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Kim", "Garcia", "Muller", "Rossi", "Tanaka", "Novak", "Silva", "Khan", "Dubois",
    "Park", "Jensen", "Lopez", "Cohen", "Okafor", "Ivanova", "Brown", "Nakamura", "Costa", "Lee",
)  # fmt: skip

# Relative frequency of each column's dirt in the public data (multiplied by the dirt rate).
DIRT_WEIGHTS: dict[str, float] = {
    "age": 1.0, "occupation": 1.4, "annual_income": 1.4, "monthly_inhand_salary": 3.0,
    "num_bank_accounts": 0.3, "num_credit_card": 0.5, "interest_rate": 0.4, "num_of_loan": 1.0,
    "type_of_loan": 2.2, "num_of_delayed_payment": 1.8, "changed_credit_limit": 0.4,
    "num_credit_inquiries": 0.6, "credit_mix": 4.0, "outstanding_debt": 1.0,
    "credit_history_age": 1.8, "total_emi_per_month": 0.6, "amount_invested_monthly": 1.2,
    "payment_behaviour": 1.6, "monthly_balance": 0.4,
}  # fmt: skip


def day_index(day: date) -> int:
    return (day - EPOCH).days


@dataclass(frozen=True)
class Population:
    """Fixed traits of every customer, drawn once per seed."""

    customer_id: np.ndarray
    name: np.ndarray
    ssn: np.ndarray
    offset: np.ndarray  # statement day within the 30-day period
    trait: np.ndarray  # persistent credit quality, N(0, 1)
    spend: np.ndarray  # utilisation propensity, N(0, 1); drives the label only in concept drift
    age0: np.ndarray
    occupation: np.ndarray
    income: np.ndarray
    salary_share: np.ndarray
    bank_accounts: np.ndarray
    credit_cards: np.ndarray
    history0: np.ndarray  # months of credit history at the epoch
    loan_order: np.ndarray  # each customer's loan types, most likely first
    loan_noise: np.ndarray
    behaviour_spent: np.ndarray

    @classmethod
    def draw(cls, seed: int, n: int) -> Population:
        rng = np.random.default_rng([seed, 0])
        trait = rng.standard_normal(n)
        ids = rng.choice(16**5, size=n, replace=False)
        bias = np.zeros((n, len(schema.LOAN_TYPES)))
        risky = [
            schema.LOAN_TYPES.index("Payday Loan"),
            schema.LOAN_TYPES.index("Debt Consolidation Loan"),
        ]
        bias[:, risky] = -1.2 * trait[:, None]
        order = np.argsort(-(rng.gumbel(size=bias.shape) + bias), axis=1)
        income = np.exp(np.log(37_000) + 0.55 * rng.standard_normal(n) + 0.1 * trait)
        return cls(
            customer_id=np.array([f"CUS_0x{i:05x}" for i in ids]),
            name=np.array(
                [f"{FIRST_NAMES[a]} {LAST_NAMES[b]}" for a, b in rng.integers(0, 20, (n, 2))]
            ),
            ssn=np.array(
                [
                    f"{a:03d}-{b:02d}-{c:04d}"
                    for a, b, c in zip(
                        rng.integers(100, 900, n),
                        rng.integers(10, 99, n),
                        rng.integers(1000, 9999, n),
                        strict=True,
                    )
                ]
            ),
            offset=rng.integers(0, PERIOD_DAYS, n),
            trait=trait,
            spend=rng.standard_normal(n),
            age0=np.clip(rng.normal(34 + 3 * trait, 9), 18, 56).astype(int),
            occupation=rng.choice(np.array(schema.OCCUPATIONS), n),
            income=np.clip(income, 7_000, 180_000).round(2),
            salary_share=rng.uniform(0.75, 0.92, n),
            bank_accounts=np.clip(np.round(5 - 1.5 * trait + rng.normal(0, 2, n)), 0, 11),
            credit_cards=np.clip(np.round(5.5 - 1.2 * trait + rng.normal(0, 2, n)), 0, 11),
            history0=np.clip(180 + 90 * trait + rng.normal(0, 70, n), 1, 390).astype(int),
            loan_order=order,
            loan_noise=rng.normal(0, 1.2, n),
            behaviour_spent=rng.uniform(0, 1, n),
        )


@dataclass
class Generator:
    """Generates the raw (dirty, string-typed) batch of one day, as the source system sends it."""

    seed: int = 42
    customers: int = 3000
    dirt_rate: float = 0.05
    scenario: Scenario = field(default_factory=Scenario)
    _shocks: dict[int, np.ndarray] = field(default_factory=dict, init=False, repr=False)

    @cached_property
    def population(self) -> Population:
        return Population.draw(self.seed, self.customers)

    def _period_shocks(self, period: int) -> np.ndarray:
        """Every customer's AR(1) shock of one period (drawn once, then kept: each day needs
        the shocks of the AR_MEMORY periods before it)."""
        if (shocks := self._shocks.get(period)) is None:
            rng = np.random.default_rng([self.seed, 1, period + 10_000])
            shocks = self._shocks[period] = rng.standard_normal(self.customers)
        return shocks

    def _ar_state(self, idx: np.ndarray, period: np.ndarray) -> np.ndarray:
        """The AR(1) term of each chosen customer at its period, with unit variance."""
        state = np.zeros(len(idx))
        scale = np.sqrt(1 - AR_RHO**2)
        for lag in range(AR_MEMORY):
            lagged = period - lag
            eps = np.empty(len(idx))
            for p in np.unique(lagged):
                rows = lagged == p
                eps[rows] = self._period_shocks(int(p))[idx[rows]]
            state += (AR_RHO**lag) * scale * eps
        return np.asarray(state / np.sqrt(1 - AR_RHO ** (2 * AR_MEMORY)))

    def batch(self, day: date) -> pd.DataFrame:
        """The raw batch of `day`: every column a string, dirt included, label attached."""
        pop = self.population
        d = day_index(day)
        idx = np.flatnonzero((d - pop.offset) % PERIOD_DAYS == 0)
        period = (d - pop.offset[idx]) // PERIOD_DAYS
        rng = np.random.default_rng([self.seed, 2, d + 100_000])
        kinds = self.scenario.kinds(day)
        n = len(idx)

        z = np.sqrt(TRAIT_SHARE) * pop.trait[idx] + np.sqrt(1 - TRAIT_SHARE) * self._ar_state(
            idx, period
        )
        if ScenarioName.COVARIATE_DRIFT in kinds:
            z = z - 0.6  # a poorer population: features and labels move together
        spend = 0.8 * pop.spend[idx] + 0.6 * rng.standard_normal(n)

        frame = self._features(day, idx, period, z, spend, rng, kinds)
        score = z + LABEL_NOISE * rng.standard_normal(n)
        if ScenarioName.CONCEPT_DRIFT in kinds:
            # Utilisation now drives the label and behaviour less: the old model's rules go stale.
            score = 0.75 * z - 0.65 * spend + LABEL_NOISE * rng.standard_normal(n)
        frame[schema.LABEL] = label_from_score(score / np.sqrt(1 + LABEL_NOISE**2))
        frame = self._dirty(frame, rng)
        if ScenarioName.SCHEMA_BREAK in kinds:
            frame = break_schema(frame)
        return frame

    def _features(
        self,
        day: date,
        idx: np.ndarray,
        period: np.ndarray,
        z: np.ndarray,
        spend: np.ndarray,
        rng: np.random.Generator,
        kinds: frozenset[ScenarioName],
    ) -> pd.DataFrame:
        pop = self.population
        n = len(idx)

        def noisy(mean: np.ndarray | float, slope: float, sd: float) -> np.ndarray:
            return np.asarray(mean + slope * z + rng.normal(0, sd, n), dtype=float)

        # Covariate drift also brings new lending terms that have nothing to do with credit
        # quality: higher nominal incomes, more inquiries, payments later and balances larger.
        # A model that learned the old meaning of these numbers is misled until it retrains.
        covariate = ScenarioName.COVARIATE_DRIFT in kinds
        income = pop.income[idx] * (1.25 if covariate else 1.0)
        terms = (15.0, 700.0, 2.0) if covariate else (0.0, 0.0, 0.0)  # delay, debt, inquiries
        salary = income / 12 * pop.salary_share[idx]
        loans = np.clip(np.round(3.5 - 1.6 * z + pop.loan_noise[idx]), 0, 9).astype(int)
        emi = loans * salary * 0.03 * rng.uniform(0.5, 1.5, n)
        invested = salary * rng.uniform(0.02, 0.2, n)
        balance = np.clip(salary * rng.uniform(0.05, 0.35, n) + 40 * z, 5, 1_600)
        history = pop.history0[idx] + period
        mix_score = z + rng.normal(0, 0.6, n)
        min_score = z + rng.normal(0, 0.7, n)
        value_size = np.digitize(z + rng.normal(0, 1.0, n), [-0.5, 0.6])
        spent = np.where(pop.behaviour_spent[idx] + 0.1 * spend > 0.55, "High", "Low")
        sizes = np.array(["Small", "Medium", "Large"])[value_size]

        return pd.DataFrame(
            {
                "customer_id": pop.customer_id[idx],
                "date": day.isoformat(),
                "name": pop.name[idx],
                "ssn": pop.ssn[idx],
                "age": pop.age0[idx] + period // 12,
                "annual_income": income.round(2),
                "monthly_inhand_salary": salary.round(2),
                "num_bank_accounts": pop.bank_accounts[idx].astype(int),
                "num_credit_card": pop.credit_cards[idx].astype(int),
                "interest_rate": np.clip(np.round(noisy(14, -6, 4)), 1, 34).astype(int),
                "num_of_loan": loans,
                "delay_from_due_date": np.clip(
                    np.round(noisy(20 + terms[0], -11, 9)), -5, 67
                ).astype(int),
                "num_of_delayed_payment": np.clip(np.round(noisy(12, -5, 4.5)), 0, 28).astype(int),
                "changed_credit_limit": np.clip(noisy(10, -3.5, 6), -6, 36).round(2),
                "num_credit_inquiries": np.clip(
                    np.round(noisy(6 + terms[2], -3, 2.5)), 0, 17
                ).astype(int),
                "outstanding_debt": np.clip(noisy(1_400 + terms[1], -850, 650), 0.2, 4_998).round(
                    2
                ),
                "credit_utilization_ratio": np.clip(32 + 6 * spend, 20, 50).round(4),
                "credit_history_age": history,
                "total_emi_per_month": emi.round(2),
                "amount_invested_monthly": invested.round(2),
                "monthly_balance": balance.round(2),
                "occupation": pop.occupation[idx],
                "credit_mix": np.select(
                    [mix_score > 0.8, mix_score < -0.6], ["Good", "Bad"], "Standard"
                ),
                "payment_of_min_amount": np.select(
                    [min_score < -0.2, min_score > 0.6],
                    ["Yes", "No"],
                    rng.choice(np.array(["NM", "Yes", "No"]), n, p=[0.5, 0.3, 0.2]),
                ),
                "payment_behaviour": np.char.add(np.char.add(spent, "_spent_"), sizes)
                + "_value_payments",
                "type_of_loan": [
                    loan_list(pop.loan_order[i, :k]) for i, k in zip(idx, loans, strict=True)
                ],
            }
        )

    def _dirty(self, frame: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
        """Turn every column to text, as the source sends it, and add the public data's dirt."""
        text = frame.astype(object).astype(str)
        text["credit_history_age"] = [
            f"{m // 12} Years and {m % 12} Months" for m in frame["credit_history_age"]
        ]
        text["type_of_loan"] = frame["type_of_loan"].astype(object)
        # The dirt goes into plain arrays, each column made a column again once, at the end.
        dirtied = {}
        for column, weight in DIRT_WEIGHTS.items():
            hit = rng.random(len(text)) < min(0.9, self.dirt_rate * weight)
            if hit.any():
                values = text[column].to_numpy(dtype=object, copy=True)
                values[hit] = [_dirt(column, v, rng) for v in values[hit]]
                dirtied[column] = pd.Series(values, index=text.index, dtype=text[column].dtype)
        return text.assign(**dirtied)


def _dirt(column: str, value: object, rng: np.random.Generator) -> object:
    """One dirty value in the style of the public data set."""
    roll = rng.random()
    absurd = {
        "age": ("-500", "8698"),
        "annual_income": ("12345678.0",),
        "num_bank_accounts": ("-1", "1362"),
        "num_credit_card": ("1217",),
        "interest_rate": ("5797",),
        "num_of_loan": ("-100", "1464"),
        "num_of_delayed_payment": ("-3", "3815"),
        "num_credit_inquiries": ("2597",),
        "total_emi_per_month": ("36000.0",),
        "monthly_balance": ("-333333333333333333333333333",),
    }
    placeholder = {
        "occupation": "_______",
        "credit_mix": "_",
        "changed_credit_limit": "_",
        "payment_behaviour": "!@9#%8",
        "amount_invested_monthly": "__10000__",
    }
    if column in placeholder and (roll < 0.85 or column != "amount_invested_monthly"):
        return placeholder[column]
    if column in absurd and roll < 0.5:
        return str(rng.choice(np.array(absurd[column])))
    if column in {"age", "annual_income", "num_of_loan", "num_of_delayed_payment",
                  "outstanding_debt"}:  # fmt: skip
        return f"{value}_"
    return None  # missing


def loan_list(order: np.ndarray) -> str | None:
    """'Auto Loan, Payday Loan, and Student Loan', as the public data writes it."""
    names = [schema.LOAN_TYPES[i] for i in order]
    if not names:
        return None
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + ", and " + names[-1]


def label_from_score(score: np.ndarray) -> np.ndarray:
    return np.select([score < POOR_CUT, score > GOOD_CUT], ["Poor", "Good"], "Standard")


def break_schema(frame: pd.DataFrame) -> pd.DataFrame:
    """What an upstream release that changed its export looks like: renamed and reformatted."""
    out = frame.rename(columns={"credit_mix": "CreditMix", "num_of_loan": "NumLoans"})
    income = to_number(out["annual_income"])
    out["annual_income"] = [f"${v:,.2f}" if v == v else "" for v in income]
    return out
