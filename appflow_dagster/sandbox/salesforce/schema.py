"""The standard objects the sandbox serves: fields, types and value generators.

A field is either *varying* (computed from the record index: Id, names, audit dates, references)
or *template* (drawn once per template from a seeded RNG; records share one of ``TEMPLATES``
templates). That split lets the server pre-render the template part of a page's JSON once.
"""

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FIRST = "James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph Jessica Thomas Sarah Charles Karen Chen Aiko Omar Priya Lars Ines".split()
LAST = "Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Hernandez Lopez Wilson Anderson Taylor Moore Jackson Martin Lee Thompson White Harris Clark Lewis Walker Young".split()
CO1 = "Acme Globex Initech Umbrella Stark Wayne Hooli Vandelay Wonka Soylent Cyberdyne Tyrell Dynamics Piper Gringotts Aperture Oscorp Nakatomi Monarch".split()
CO2 = "Corp Inc LLC Group Holdings Partners Labs Systems Industries Solutions Ltd GmbH".split()
CITIES = [
    ("San Francisco", "CA", "94105"),
    ("New York", "NY", "10001"),
    ("Austin", "TX", "73301"),
    ("Chicago", "IL", "60601"),
    ("Seattle", "WA", "98101"),
    ("Boston", "MA", "02108"),
    ("Denver", "CO", "80202"),
    ("Atlanta", "GA", "30301"),
]
STREETS = (
    "Main St|Market St|Oak Ave|Pine St|Cedar Rd|Elm St|Lakeview Dr|Harbor Blvd|Mission St|5th Ave".split("|")
)
INDUSTRY = [
    "Agriculture",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Finance",
    "Healthcare",
    "Insurance",
    "Manufacturing",
    "Media",
    "Retail",
    "Technology",
    "Telecommunications",
    "Transportation",
]
ACCOUNT_TYPE = [
    "Prospect",
    "Customer - Direct",
    "Customer - Channel",
    "Channel Partner / Reseller",
    "Installation Partner",
    "Technology Partner",
    "Other",
]
RATING = ["Hot", "Warm", "Cold"]
OWNERSHIP = ["Public", "Private", "Subsidiary", "Other"]
SOURCE = ["Web", "Phone Inquiry", "Partner Referral", "Purchased List", "Other"]
STAGES = [
    ("Prospecting", 10),
    ("Qualification", 10),
    ("Needs Analysis", 20),
    ("Value Proposition", 50),
    ("Id. Decision Makers", 60),
    ("Perception Analysis", 70),
    ("Proposal/Price Quote", 75),
    ("Negotiation/Review", 90),
    ("Closed Won", 100),
    ("Closed Lost", 0),
]
LEAD_STATUS = ["Open - Not Contacted", "Working - Contacted", "Closed - Converted", "Closed - Not Converted"]
CASE_STATUS = ["New", "Working", "Escalated", "Closed"]
OWNERS = [
    "0058d000001AbCdAAK",
    "0058d000001AbCeAAK",
    "0058d000001AbCfAAK",
    "0058d000001AbCgAAK",
    "0058d000001AbChAAK",
]
WORDS = "the customer asked about renewal pricing integration roadmap support onboarding contract expansion security review invoice analytics migration pilot".split()


@dataclass(frozen=True)
class Ctx:
    """Per-dataset constants a generator may use (``today`` is an epoch day)."""

    today: int


Gen = Callable[[random.Random, Ctx], Any]


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    gen: Gen | None = None  # None: the field is varying (computed in data.py)
    length: int = 0
    nillable: bool = True
    reference_to: tuple[str, ...] = ()
    relationship: str | None = None
    picklist: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    @property
    def varying(self) -> bool:
        return self.gen is None


def _derived(r: random.Random, c: Ctx) -> None:
    """Placeholder: data.py fills the value from the template's other fields."""
    return None


def _c(values: list) -> Gen:
    return lambda r, c: r.choice(values)


def _maybe(p: float, g: Gen) -> Gen:
    return lambda r, c: g(r, c) if r.random() < p else None


def _text(n: int) -> Gen:
    return lambda r, c: " ".join(r.choice(WORDS) for _ in range(n)).capitalize() + "."


def _phone(r: random.Random, c: Ctx) -> str:
    return f"({r.randint(200, 989)}) {r.randint(200, 999)}-{r.randint(1000, 9999)}"


def _street(r: random.Random, c: Ctx) -> str:
    return f"{r.randint(1, 9999)} {r.choice(STREETS)}"


def _recent_date(days: int) -> Gen:
    return lambda r, c: c.today - r.randint(0, days)


def S(name: str, label: str, gen: Gen | None = None, length: int = 255, **kw: Any) -> Field:
    return Field(name, "string", label, gen, length=length, **kw)


def P(name: str, label: str, values: list, gen: Gen | None = None, **kw: Any) -> Field:
    return Field(name, "picklist", label, gen or _c(values), length=255, picklist=tuple(values), **kw)


def R(name: str, label: str, to: str, rel: str, gen: Gen | None = None, **kw: Any) -> Field:
    return Field(name, "reference", label, gen, length=18, reference_to=(to,), relationship=rel, **kw)


def _head() -> list[Field]:
    return [
        Field("Id", "id", "Record ID", None, length=18, nillable=False),
        Field("IsDeleted", "boolean", "Deleted", None, nillable=False),
    ]


def _audit() -> list[Field]:
    return [
        R("OwnerId", "Owner ID", "User", "Owner", _c(OWNERS), nillable=False),
        Field("CreatedDate", "datetime", "Created Date", None, nillable=False),
        R("CreatedById", "Created By ID", "User", "CreatedBy", _c(OWNERS), nillable=False),
        Field("LastModifiedDate", "datetime", "Last Modified Date", None, nillable=False),
        R("LastModifiedById", "Last Modified By ID", "User", "LastModifiedBy", _c(OWNERS), nillable=False),
        Field("SystemModstamp", "datetime", "System Modstamp", None, nillable=False),
        Field("LastActivityDate", "date", "Last Activity", _maybe(0.7, _recent_date(120))),
    ]


def _city(i: int) -> Gen:
    return lambda r, c: r.choice(CITIES)[i]


ACCOUNT = (
    _head()
    + [
        R("MasterRecordId", "Master Record ID", "Account", "MasterRecord", lambda r, c: None),
        S("Name", "Account Name", None, nillable=False, extra={"nameField": True}),
        P("Type", "Account Type", ACCOUNT_TYPE),
        R("ParentId", "Parent Account ID", "Account", "Parent", lambda r, c: None),
        Field("BillingStreet", "textarea", "Billing Street", _street, length=255),
        S("BillingCity", "Billing City", _city(0), length=40),
        S("BillingState", "Billing State/Province", _city(1), length=80),
        S("BillingPostalCode", "Billing Zip/Postal Code", _city(2), length=20),
        S("BillingCountry", "Billing Country", lambda r, c: "United States", length=80),
        Field(
            "BillingLatitude",
            "double",
            "Billing Latitude",
            lambda r, c: round(r.uniform(25, 48), 6),
            extra={"precision": 18, "scale": 15},
        ),
        Field(
            "BillingLongitude",
            "double",
            "Billing Longitude",
            lambda r, c: round(r.uniform(-122, -71), 6),
            extra={"precision": 18, "scale": 15},
        ),
        Field("ShippingStreet", "textarea", "Shipping Street", _street, length=255),
        S("ShippingCity", "Shipping City", _city(0), length=40),
        S("ShippingState", "Shipping State/Province", _city(1), length=80),
        S("ShippingPostalCode", "Shipping Zip/Postal Code", _city(2), length=20),
        S("ShippingCountry", "Shipping Country", lambda r, c: "United States", length=80),
        Field("Phone", "phone", "Account Phone", _phone, length=40),
        Field("Fax", "phone", "Account Fax", _maybe(0.3, _phone), length=40),
        S("AccountNumber", "Account Number", None, length=40),
        Field(
            "Website",
            "url",
            "Website",
            lambda r, c: f"https://www.{r.choice(CO1).lower()}{r.randint(1, 999)}.example.com",
            length=255,
        ),
        S("Sic", "SIC Code", lambda r, c: str(r.randint(1000, 9999)), length=20),
        P("Industry", "Industry", INDUSTRY),
        Field(
            "AnnualRevenue",
            "currency",
            "Annual Revenue",
            lambda r, c: float(r.randint(1, 5000) * 10000),
            extra={"precision": 18, "scale": 0},
        ),
        Field("NumberOfEmployees", "int", "Employees", lambda r, c: r.randint(1, 50000), extra={"digits": 8}),
        P("Ownership", "Ownership", OWNERSHIP),
        S(
            "TickerSymbol",
            "Ticker Symbol",
            _maybe(0.4, lambda r, c: "".join(r.choice("ABCDEFGHIJKLMNOPQRSTUVWXYZ") for _ in range(4))),
            length=20,
        ),
        Field("Description", "textarea", "Account Description", _text(12), length=32000),
        P("Rating", "Account Rating", RATING),
        S(
            "Site",
            "Account Site",
            _maybe(0.5, lambda r, c: r.choice(["HQ", "Branch", "Plant", "Warehouse"])),
            length=80,
        ),
        P("AccountSource", "Account Source", SOURCE),
    ]
    + _audit()
)

CONTACT = (
    _head()
    + [
        R("AccountId", "Account ID", "Account", "Account"),
        S("LastName", "Last Name", _c(LAST), length=80, nillable=False),
        S("FirstName", "First Name", _c(FIRST), length=40),
        P("Salutation", "Salutation", ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]),
        S("Name", "Full Name", _derived, length=121, nillable=False, extra={"nameField": True}),
        Field("MailingStreet", "textarea", "Mailing Street", _street),
        S("MailingCity", "Mailing City", _city(0), length=40),
        S("MailingState", "Mailing State/Province", _city(1), length=80),
        S("MailingPostalCode", "Mailing Zip/Postal Code", _city(2), length=20),
        S("MailingCountry", "Mailing Country", lambda r, c: "United States", length=80),
        Field("Phone", "phone", "Business Phone", _phone, length=40),
        Field("MobilePhone", "phone", "Mobile Phone", _maybe(0.6, _phone), length=40),
        Field("Email", "email", "Email", _derived, length=80),
        S(
            "Title",
            "Title",
            _c(["CEO", "CFO", "VP Sales", "Director of IT", "Engineer", "Buyer", "Analyst"]),
            length=128,
        ),
        S("Department", "Department", _c(["Finance", "IT", "Sales", "Operations", "Legal"]), length=80),
        P("LeadSource", "Lead Source", SOURCE),
        Field("Birthdate", "date", "Birthdate", _maybe(0.5, lambda r, c: r.randint(-7000, 11000))),
        Field(
            "HasOptedOutOfEmail", "boolean", "Email Opt Out", lambda r, c: r.random() < 0.1, nillable=False
        ),
        Field("DoNotCall", "boolean", "Do Not Call", lambda r, c: r.random() < 0.05, nillable=False),
        Field("Description", "textarea", "Contact Description", _maybe(0.5, _text(8)), length=32000),
    ]
    + _audit()
)

OPPORTUNITY = (
    _head()
    + [
        R("AccountId", "Account ID", "Account", "Account"),
        S("Name", "Name", None, length=120, nillable=False, extra={"nameField": True}),
        Field("Description", "textarea", "Description", _maybe(0.5, _text(10)), length=32000),
        P("StageName", "Stage", [s for s, _ in STAGES], nillable=False),
        Field(
            "Amount",
            "currency",
            "Amount",
            lambda r, c: float(r.randint(5, 500) * 1000),
            extra={"precision": 18, "scale": 2},
        ),
        Field(
            "Probability",
            "percent",
            "Probability (%)",
            lambda r, c: float(r.choice([10, 20, 50, 60, 70, 75, 90, 100, 0])),
            extra={"precision": 3, "scale": 0},
        ),
        Field("CloseDate", "date", "Close Date", lambda r, c: c.today + r.randint(-60, 120), nillable=False),
        P(
            "Type",
            "Opportunity Type",
            ["Existing Customer - Upgrade", "Existing Customer - Replacement", "New Customer"],
        ),
        S(
            "NextStep",
            "Next Step",
            _maybe(0.5, _c(["Send proposal", "Schedule demo", "Legal review", "Follow up call"])),
        ),
        P("LeadSource", "Lead Source", SOURCE),
        Field("IsClosed", "boolean", "Closed", lambda r, c: r.random() < 0.3, nillable=False),
        Field("IsWon", "boolean", "Won", lambda r, c: r.random() < 0.15, nillable=False),
        P(
            "ForecastCategory",
            "Forecast Category",
            ["Omitted", "Pipeline", "BestCase", "Forecast", "Closed"],
            nillable=False,
        ),
        Field("FiscalQuarter", "int", "Fiscal Quarter", lambda r, c: r.randint(1, 4), extra={"digits": 11}),
        Field("FiscalYear", "int", "Fiscal Year", lambda r, c: r.choice([2024, 2025]), extra={"digits": 11}),
    ]
    + _audit()
)

LEAD = (
    _head()
    + [
        S("LastName", "Last Name", _c(LAST), length=80, nillable=False),
        S("FirstName", "First Name", _c(FIRST), length=40),
        P("Salutation", "Salutation", ["Mr.", "Ms.", "Mrs.", "Dr.", "Prof."]),
        S("Name", "Full Name", _derived, length=121, nillable=False, extra={"nameField": True}),
        S("Title", "Title", _c(["CEO", "CTO", "Manager", "Engineer", "Buyer"]), length=128),
        S("Company", "Company", lambda r, c: f"{r.choice(CO1)} {r.choice(CO2)}", nillable=False),
        Field("Street", "textarea", "Street", _street),
        S("City", "City", _city(0), length=40),
        S("State", "State/Province", _city(1), length=80),
        S("PostalCode", "Zip/Postal Code", _city(2), length=20),
        S("Country", "Country", lambda r, c: "United States", length=80),
        Field("Phone", "phone", "Phone", _phone, length=40),
        Field("Email", "email", "Email", _derived, length=80),
        Field(
            "Website",
            "url",
            "Website",
            _maybe(0.5, lambda r, c: f"https://{r.choice(CO1).lower()}.example.com"),
        ),
        P("LeadSource", "Lead Source", SOURCE),
        P("Status", "Status", LEAD_STATUS, nillable=False),
        P("Industry", "Industry", INDUSTRY),
        P("Rating", "Rating", RATING),
        Field(
            "AnnualRevenue",
            "currency",
            "Annual Revenue",
            _maybe(0.6, lambda r, c: float(r.randint(1, 900) * 10000)),
            extra={"precision": 18, "scale": 0},
        ),
        Field(
            "NumberOfEmployees",
            "int",
            "Employees",
            _maybe(0.6, lambda r, c: r.randint(1, 5000)),
            extra={"digits": 8},
        ),
        Field("IsConverted", "boolean", "Converted", lambda r, c: r.random() < 0.2, nillable=False),
    ]
    + _audit()
)

CASE = (
    _head()
    + [
        S(
            "CaseNumber",
            "Case Number",
            None,
            length=30,
            nillable=False,
            extra={"nameField": True, "autoNumber": True},
        ),
        R("ContactId", "Contact ID", "Contact", "Contact"),
        R("AccountId", "Account ID", "Account", "Account"),
        P("Type", "Case Type", ["Mechanical", "Electrical", "Electronic", "Structural", "Other"]),
        P("Status", "Status", CASE_STATUS),
        P(
            "Reason",
            "Case Reason",
            ["Installation", "Equipment Complexity", "Performance", "Breakdown", "Feedback"],
        ),
        P("Origin", "Case Origin", ["Phone", "Email", "Web"]),
        S("Subject", "Subject", _text(5)),
        P("Priority", "Priority", ["High", "Medium", "Low"]),
        Field("Description", "textarea", "Description", _text(15), length=32000),
        Field("IsClosed", "boolean", "Closed", lambda r, c: r.random() < 0.4, nillable=False),
        Field("IsEscalated", "boolean", "Escalated", lambda r, c: r.random() < 0.1, nillable=False),
    ]
    + _audit()
)


@dataclass(frozen=True)
class SObject:
    name: str
    label: str
    label_plural: str
    key_prefix: str
    fields: tuple[Field, ...]

    def field(self, name: str) -> Field | None:
        return self.by_lower.get(name.lower())

    @property
    def by_lower(self) -> dict[str, Field]:
        d = self.__dict__.get("_by_lower")
        if d is None:
            d = {f.name.lower(): f for f in self.fields}
            object.__setattr__(self, "_by_lower", d)
        return d


OBJECTS: dict[str, SObject] = {
    o.name: o
    for o in (
        SObject("Account", "Account", "Accounts", "001", tuple(ACCOUNT)),
        SObject("Contact", "Contact", "Contacts", "003", tuple(CONTACT)),
        SObject("Opportunity", "Opportunity", "Opportunities", "006", tuple(OPPORTUNITY)),
        SObject("Lead", "Lead", "Leads", "00Q", tuple(LEAD)),
        SObject("Case", "Case", "Cases", "500", tuple(CASE)),
    )
}
OBJECTS_LOWER = {k.lower(): v for k, v in OBJECTS.items()}
