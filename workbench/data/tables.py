"""The province data model: one declarative description of every table.

This module is the single source of truth for table and column names, types,
units and allowed values.  The pandera schemas (:mod:`workbench.data.schemas`),
the generated documentation (``docs/data-model.md``) and the synthetic
province generator all read it, so they cannot drift apart.

Types are logical types:

``str``      text (pandas ``str`` dtype)
``int``      64-bit integer
``float``    64-bit float
``bool``     boolean
``date``     calendar date (stored as ``datetime64``; months are the first day of the month)
"""
from __future__ import annotations

from dataclasses import dataclass, field

__all__ = [
    "Column",
    "Table",
    "TABLES",
    "TABLE_ORDER",
    "REQUIRED_TABLES",
    "BRANCHES",
    "branch_name",
    "BRANDS",
    "CONTENT_CATEGORIES",
    "CAPABILITIES",
    "PRODUCT_FAMILIES",
    "ORDER_CHANNELS",
    "USAGE_MEASURES",
    "REQUIRED_TABLES",
    "CREDIT_TABLES",
    "PAYMENT_TYPES",
    "JOIN_CHANNELS",
    "PAYMENT_KINDS",
    "PAYMENT_CHANNELS",
    "ACCOUNT_EVENTS",
    "PREVIOUS_END_REASONS",
    "table",
]

# ---------------------------------------------------------------- vocabularies
#: The 14 branches (地州分公司) of the province: (branch_id, Chinese name, English name).
BRANCHES: tuple[tuple[str, str, str], ...] = (
    ("urumqi", "乌鲁木齐", "Urumqi"),
    ("karamay", "克拉玛依", "Karamay"),
    ("turpan", "吐鲁番", "Turpan"),
    ("hami", "哈密", "Hami"),
    ("changji", "昌吉", "Changji"),
    ("ili", "伊犁", "Ili"),
    ("tacheng", "塔城", "Tacheng"),
    ("altay", "阿勒泰", "Altay"),
    ("bortala", "博尔塔拉", "Bortala"),
    ("bayingolin", "巴音郭楞", "Bayingolin"),
    ("aksu", "阿克苏", "Aksu"),
    ("kizilsu", "克孜勒苏", "Kizilsu"),
    ("kashgar", "喀什", "Kashgar"),
    ("hotan", "和田", "Hotan"),
)
_BRANCH_NAMES: dict[str, dict[str, str]] = {code: {"zh": zh, "en": en} for code, zh, en in BRANCHES}


def branch_name(branch_id: str, lang: str) -> str:
    """The name of a branch in ``lang`` (``"zh"`` or ``"en"``); the id itself when it is not a branch.

    >>> branch_name("hami", "en"), branch_name("nowhere", "zh")
    ('Hami', 'nowhere')
    """
    return _BRANCH_NAMES.get(branch_id, {}).get(lang, branch_id)


#: Brands: 全球通 GoTone, 动感地带 M-Zone, 神州行 Easy-Own.
BRANDS: tuple[str, ...] = ("gotone", "mzone", "easyown")
#: Content categories of VAS consumption (梦网内容分类).
CONTENT_CATEGORIES: tuple[str, ...] = ("news", "sports", "finance", "entertainment", "music", "games")
#: Handset capabilities a VAS product may need.
CAPABILITIES: tuple[str, ...] = ("wap", "mms", "java", "mp3")
#: VAS product families of the catalogue.
PRODUCT_FAMILIES: tuple[str, ...] = (
    "mobile_newspaper", "ringback_tone", "full_song", "mobile_stock", "fetion", "wap_portal",
)
#: Channels an order or unsubscribe can come through.
ORDER_CHANNELS: tuple[str, ...] = (
    "sms", "wap", "hall", "call_center", "ivr", "web", "outbound_call", "wap_push", "key_account",
)
#: Numeric monthly usage measures (the feature builder aggregates each of these).
USAGE_MEASURES: tuple[str, ...] = (
    "voice_minutes", "voice_calls", "roaming_minutes", "long_distance_minutes",
    "sms_count", "gprs_mb", "wap_visits", "vas_spend", "arpu",
    *(f"content_{c}" for c in CONTENT_CATEGORIES),
)


@dataclass(frozen=True)
class Column:
    """One column of a table.

    Parameters
    ----------
    name : str
        Column name.
    dtype : {"str", "int", "float", "bool", "date"}
        Logical type.
    meaning : str
        What the column holds (English).
    meaning_zh : str
        What the column holds (Chinese).
    unit : str, optional
        Unit of a measure ("minutes", "MB", "yuan", ...).
    nullable : bool
        Whether missing values are allowed.
    allowed : tuple, optional
        The allowed values of a categorical column.
    min, max : float, optional
        Inclusive bounds of a numeric column.
    not_after_snapshot : bool
        For dates: values must not be later than the snapshot (``as_of``) date.
    personal : bool
        Personal data (masked on screens for branch staff).
    """

    name: str
    dtype: str
    meaning: str
    meaning_zh: str = ""
    unit: str = ""
    nullable: bool = False
    allowed: tuple | None = None
    min: float | None = None
    max: float | None = None
    not_after_snapshot: bool = False
    personal: bool = False


@dataclass(frozen=True)
class Table:
    """One table of the province data model.

    ``optional`` tables (the credit tables) are validated when an extract holds
    them and are not required otherwise.
    """

    name: str
    meaning: str
    meaning_zh: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...]
    #: foreign keys: column -> (table, column)
    foreign_keys: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: an optional table is validated when present and not required by default
    optional: bool = False

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(f"table {self.name!r} has no column {name!r}; columns are {self.column_names}")


_usage_columns = (
    Column("voice_minutes", "float", "Outgoing + incoming voice minutes in the month", "月通话分钟数", "minutes",
           min=0),
    Column("voice_calls", "int", "Number of voice calls in the month", "月通话次数", "calls", min=0),
    Column("roaming_minutes", "float", "Voice minutes while roaming", "漫游通话分钟数", "minutes", min=0),
    Column("long_distance_minutes", "float", "Long-distance voice minutes", "长途通话分钟数", "minutes", min=0),
    Column("sms_count", "int", "Point-to-point SMS sent", "短信条数", "messages", min=0),
    Column("gprs_mb", "float", "GPRS/WAP data traffic", "GPRS流量", "MB", min=0),
    Column("wap_visits", "int", "WAP page visits", "WAP访问次数", "visits", min=0),
    Column("vas_spend", "float", "Spend on value-added services", "增值业务消费", "yuan", min=0),
    Column("arpu", "float", "Total bill of the month (ARPU)", "月话费(ARPU)", "yuan", min=0),
    *(
        Column(f"content_{c}", "int", f"Items of {c} content consumed (WAP/MMS/downloads)",
               f"{c}类内容消费次数", "items", min=0)
        for c in CONTENT_CATEGORIES
    ),
)

#: Payment types of an account: prepaid (top-ups, charged in real time) or postpaid (monthly bills).
PAYMENT_TYPES: tuple[str, ...] = ("prepaid", "postpaid")
#: Where a subscriber joined (入网渠道): own hall, a dealer (代理商), online, key-account manager.
JOIN_CHANNELS: tuple[str, ...] = ("own_hall", "dealer", "online", "key_account")
#: Kinds of money coming into an account.
PAYMENT_KINDS: tuple[str, ...] = ("bill_payment", "top_up")
#: Channels a payment or top-up comes through.
PAYMENT_CHANNELS: tuple[str, ...] = ("hall", "card", "bank", "online")
#: Account status events: stopped for arrears (欠费停机), restarted (复机), written off (销户/坏账).
ACCOUNT_EVENTS: tuple[str, ...] = ("stopped_arrears", "restarted", "written_off")
#: How a re-joiner's earlier subscription ended.
PREVIOUS_END_REASONS: tuple[str, ...] = ("voluntary", "stopped_arrears", "written_off")

_SUB_FK = {"subscriber_id": ("subscribers", "subscriber_id")}

TABLES: dict[str, Table] = {
    t.name: t
    for t in (
        Table(
            "branches", "Prefecture branches of the province", "地州分公司",
            (
                Column("branch_id", "str", "Branch code", "分公司编码"),
                Column("name_zh", "str", "Chinese name", "中文名称"),
                Column("name_en", "str", "English name", "英文名称"),
                Column("is_capital", "bool", "True for the provincial capital (Urumqi)", "是否首府"),
            ),
            primary_key=("branch_id",),
        ),
        Table(
            "handset_models", "Catalogue of handset models and their capabilities", "终端型号目录",
            (
                Column("handset_model", "str", "Handset model code", "终端型号"),
                Column("vendor", "str", "Manufacturer", "厂商"),
                Column("price_band", "str", "Retail price band", "价位", allowed=("low", "mid", "high")),
                Column("cap_wap", "bool", "Supports WAP browsing", "支持WAP"),
                Column("cap_mms", "bool", "Supports MMS", "支持彩信"),
                Column("cap_java", "bool", "Runs Java applications", "支持Java"),
                Column("cap_mp3", "bool", "Plays full-song downloads", "支持MP3"),
                Column("smartphone", "bool", "Smartphone", "智能手机"),
            ),
            primary_key=("handset_model",),
        ),
        Table(
            "subscribers", "One row per subscriber (attributes at the extract date)", "用户资料",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("msisdn", "str", "Phone number (11 digits) - personal data", "手机号码", personal=True),
                Column("branch_id", "str", "Home branch", "归属分公司"),
                Column("brand", "str", "Brand: GoTone 全球通, M-Zone 动感地带, Easy-Own 神州行", "品牌",
                       allowed=BRANDS),
                Column("tariff_plan", "str", "Tariff plan code", "资费套餐"),
                Column("join_date", "date", "Date the subscriber joined the network", "入网日期",
                       not_after_snapshot=True),
                Column("age", "int", "Age in years", "年龄", "years", nullable=True, min=10, max=100),
                Column("gender", "str", "Gender", "性别", nullable=True, allowed=("M", "F")),
                Column("rejoined", "bool", "True when the person had a previous subscription (re-joined)",
                       "是否再入网"),
            ),
            primary_key=("subscriber_id",),
            foreign_keys={"branch_id": ("branches", "branch_id")},
        ),
        Table(
            "monthly_usage", "Usage of each subscriber by month", "用户月使用行为",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("month", "date", "Month (first day of the month)", "月份", not_after_snapshot=True),
                *_usage_columns,
            ),
            primary_key=("subscriber_id", "month"),
            foreign_keys={"subscriber_id": ("subscribers", "subscriber_id")},
        ),
        Table(
            "vas_products", "Catalogue of value-added service products", "增值业务产品目录",
            (
                Column("product_id", "str", "Product code", "产品编码"),
                Column("family", "str", "Product family", "产品族", allowed=PRODUCT_FAMILIES),
                Column("name_zh", "str", "Chinese name", "中文名称"),
                Column("name_en", "str", "English name", "英文名称"),
                Column("content_category", "str", "Content category of the product", "内容分类",
                       nullable=True, allowed=CONTENT_CATEGORIES),
                Column("edition", "str", "Edition (for the mobile newspaper)", "版本", nullable=True),
                Column("monthly_fee", "float", "Monthly fee", "月功能费", "yuan", min=0),
                Column("free_months", "int", "Free months after ordering (promotion)", "免费月数", "months", min=0),
                Column("required_capability", "str", "Handset capability the product needs", "所需终端能力",
                       nullable=True, allowed=CAPABILITIES),
            ),
            primary_key=("product_id",),
        ),
        Table(
            "vas_orders", "Order and unsubscribe events of VAS products", "增值业务订购/退订记录",
            (
                Column("event_id", "int", "Event key", "记录编号"),
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("product_id", "str", "Product code", "产品编码"),
                Column("event_date", "date", "Date of the event", "日期", not_after_snapshot=True),
                Column("event_type", "str", "Order or unsubscribe", "订购/退订", allowed=("order", "unsubscribe")),
                Column("channel", "str", "Channel of the event", "渠道", allowed=ORDER_CHANNELS),
            ),
            primary_key=("event_id",),
            foreign_keys={
                "subscriber_id": ("subscribers", "subscriber_id"),
                "product_id": ("vas_products", "product_id"),
            },
        ),
        Table(
            "handset_events", "Handset seen per subscriber: first handset and every change of IMEI", "终端更换记录",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("event_date", "date", "First day the IMEI was seen", "首次出现日期", not_after_snapshot=True),
                Column("imei", "str", "Handset IMEI (15 digits)", "IMEI"),
                Column("handset_model", "str", "Handset model of the IMEI", "终端型号"),
            ),
            primary_key=("subscriber_id", "event_date"),
            foreign_keys={
                "subscriber_id": ("subscribers", "subscriber_id"),
                "handset_model": ("handset_models", "handset_model"),
            },
        ),
        # daily handset presence (workbench.data.presence checks it across rows; docs/data-model.md)
        Table(
            "imei_presence", "Each IMEI seen per subscriber in the observed window: first and last day seen, "
            "days seen", "终端IMEI在网天数",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("imei", "str", "Handset IMEI (15 digits)", "IMEI"),
                Column("handset_model", "str", "Handset model of the IMEI", "终端型号"),
                Column("first_seen", "date", "First day the IMEI was seen on the subscriber", "首次出现日期",
                       not_after_snapshot=True),
                Column("last_seen", "date", "Last day the IMEI was seen on the subscriber", "最后出现日期",
                       not_after_snapshot=True),
                Column("active_days", "int", "Days the IMEI was seen from first_seen to last_seen "
                       "(equal to their span: used every day)", "出现天数", "days", min=1),
            ),
            primary_key=("subscriber_id", "imei"),
            foreign_keys={
                "subscriber_id": ("subscribers", "subscriber_id"),
                "handset_model": ("handset_models", "handset_model"),
            },
            optional=True,
        ),
        Table(
            "imei_days", "Days each IMEI was seen, for the last weeks and only around handset changes "
            "(subscribers with more than one IMEI in those days)", "终端IMEI逐日出现记录",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("imei", "str", "Handset IMEI (15 digits)", "IMEI"),
                Column("day", "date", "A day the IMEI was seen on the subscriber", "出现日期",
                       not_after_snapshot=True),
            ),
            primary_key=("subscriber_id", "imei", "day"),
            foreign_keys={"subscriber_id": ("subscribers", "subscriber_id")},
            optional=True,
        ),
        Table(
            "credit_accounts", "Account of each subscriber who joined in the credit span: payment type, "
            "credit control, ID-document key and join channel", "新入网用户账户资料",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("payment_type", "str", "Prepaid or postpaid", "付费方式", allowed=PAYMENT_TYPES),
                Column("id_key", "str", "Hashed ID-document number (several numbers may share one) - personal data",
                       "证件号哈希", personal=True),
                Column("join_channel", "str", "Channel the subscriber joined through", "入网渠道",
                       allowed=JOIN_CHANNELS),
                Column("dealer_id", "str", "Dealer that signed the subscriber up (dealer channel only)", "代理商",
                       nullable=True),
                Column("credit_limit", "float", "Credit limit at joining (arrears allowed before a stop)",
                       "信用额度", "yuan", min=0),
                Column("ocs_member", "bool", "Under OCS real-time credit control at joining", "是否纳入OCS"),
            ),
            primary_key=("subscriber_id",),
            foreign_keys=_SUB_FK,
            optional=True,
        ),
        Table(
            "account_months", "Charges, payments and month-end balance of each credit account by month",
            "账户月收支与余额",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("month", "date", "Month (first day of the month)", "月份", not_after_snapshot=True),
                Column("charges", "float", "Charges of the month (usage, rent and VAS)", "月消费", "yuan", min=0),
                Column("paid", "float", "Payments and top-ups received in the month", "月缴费/充值", "yuan",
                       min=0),
                Column("balance", "float", "Balance at the month's end (negative = owed)", "月末余额", "yuan"),
            ),
            primary_key=("subscriber_id", "month"),
            foreign_keys=_SUB_FK,
            optional=True,
        ),
        Table(
            "monthly_bills", "Monthly bills of postpaid accounts", "后付费月账单",
            (
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("bill_month", "date", "Month billed (first day of the month)", "账期",
                       not_after_snapshot=True),
                Column("amount_due", "float", "Amount billed", "应缴金额", "yuan", min=0),
                Column("due_date", "date", "Date the bill is due", "缴费截止日", not_after_snapshot=True),
                Column("amount_paid", "float", "Amount paid by the extract date", "已缴金额", "yuan", min=0),
                Column("paid_date", "date", "Date the bill was paid in full (missing while unpaid)", "缴清日期",
                       nullable=True, not_after_snapshot=True),
            ),
            primary_key=("subscriber_id", "bill_month"),
            foreign_keys=_SUB_FK,
            optional=True,
        ),
        Table(
            "payments", "Bill payments (postpaid) and top-ups (prepaid)", "缴费与充值记录",
            (
                Column("payment_id", "int", "Payment key", "缴费编号"),
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("payment_date", "date", "Date of the payment", "缴费日期", not_after_snapshot=True),
                Column("amount", "float", "Amount paid", "金额", "yuan", min=0),
                Column("kind", "str", "Bill payment or top-up", "类型", allowed=PAYMENT_KINDS),
                Column("channel", "str", "Channel of the payment", "渠道", allowed=PAYMENT_CHANNELS),
            ),
            primary_key=("payment_id",),
            foreign_keys=_SUB_FK,
            optional=True,
        ),
        Table(
            "account_events", "Status events of credit accounts: stopped for arrears, restarted, written off",
            "账户状态变更(停机/复机/销账)",
            (
                Column("event_id", "int", "Event key", "记录编号"),
                Column("subscriber_id", "int", "Subscriber key", "用户编号"),
                Column("event_date", "date", "Date of the event", "日期", not_after_snapshot=True),
                Column("event", "str", "What happened", "事件", allowed=ACCOUNT_EVENTS),
                Column("amount_owed", "float", "Arrears at the event", "欠费金额", "yuan", min=0),
            ),
            primary_key=("event_id",),
            foreign_keys=_SUB_FK,
            optional=True,
        ),
        Table(
            "previous_subscriptions", "A re-joiner's earlier subscription (found through the ID document)",
            "再入网用户的前一次入网记录",
            (
                Column("subscriber_id", "int", "Subscriber key (the current subscription)", "用户编号"),
                Column("previous_subscriber_id", "int", "Subscriber key of the earlier subscription", "原用户编号"),
                Column("previous_join_date", "date", "Join date of the earlier subscription", "原入网日期",
                       not_after_snapshot=True),
                Column("previous_end_date", "date", "End date of the earlier subscription", "原离网日期",
                       not_after_snapshot=True),
                Column("end_reason", "str", "How the earlier subscription ended", "原离网原因",
                       allowed=PREVIOUS_END_REASONS),
                Column("unpaid_amount", "float", "Arrears left unpaid by the earlier subscription", "原欠费",
                       "yuan", min=0),
            ),
            primary_key=("subscriber_id",),
            foreign_keys=_SUB_FK,
            optional=True,
        ),
    )
}

#: Order in which tables are loaded and validated (referenced tables first).
TABLE_ORDER: tuple[str, ...] = (
    "branches", "handset_models", "vas_products", "subscribers", "monthly_usage", "vas_orders", "handset_events",
    "imei_presence", "imei_days",
    "credit_accounts", "account_months", "monthly_bills", "payments", "account_events", "previous_subscriptions",
)
#: The credit tables (optional: validated when present, needed by the credit pipeline only).
CREDIT_TABLES: tuple[str, ...] = (
    "credit_accounts", "account_months", "monthly_bills", "payments", "account_events", "previous_subscriptions",
)
#: Tables every extract must have (the optional ones are checked when present).
REQUIRED_TABLES: tuple[str, ...] = tuple(n for n in TABLE_ORDER if not TABLES[n].optional)


def table(name: str) -> Table:
    """Return the description of table ``name`` (clear error when unknown)."""
    try:
        return TABLES[name]
    except KeyError:
        raise KeyError(f"unknown table {name!r}; the data model has {list(TABLE_ORDER)}") from None
