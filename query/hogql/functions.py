"""The function allowlist: HogQL names users may call, their arity, and their ClickHouse spelling.

Anything not listed is refused ("Unsupported function call"), which keeps table functions, dictionary
lookups, `sleep`, `file`, `url`, … out of reach. Names are case sensitive except a few SQL classics.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace


@dataclass(frozen=True)
class FunctionMeta:
    min_args: int = 0
    max_args: int | None = None
    min_params: int = 0
    max_params: int | None = 0
    aggregate: bool = False


def _many(names: str, meta: FunctionMeta) -> dict[str, FunctionMeta]:
    return dict.fromkeys(names.split(), meta)


A0, A1, A2, A3 = FunctionMeta(0, 0), FunctionMeta(1, 1), FunctionMeta(2, 2), FunctionMeta(3, 3)
A12, A13, A23, A1N, A2N, A0N = (
    FunctionMeta(1, 2),
    FunctionMeta(1, 3),
    FunctionMeta(2, 3),
    FunctionMeta(1, None),
    FunctionMeta(2, None),
    FunctionMeta(0, None),
)

SCALARS: dict[str, FunctionMeta] = {
    # arithmetic and comparison
    **_many("plus minus multiply divide intDiv intDivOrZero modulo moduloOrZero positiveModulo", A2),
    **_many("negate abs", A1),
    **_many("gcd lcm", A2),
    **_many("equals notEquals less greater lessOrEquals greaterOrEquals like ilike notLike notILike", A2),
    **_many("in notIn match", A2),
    **_many("and or", A2N),
    **_many("xor", A2N),
    "not": A1,
    "if": A3,
    "multiIf": FunctionMeta(3, None),
    "transform": FunctionMeta(3, 4),
    # nulls
    **_many("isNull isNotNull assumeNotNull toNullable", A1),
    **_many("ifNull nullIf", A2),
    "coalesce": A1N,
    # conversion
    **_many("toInt toFloat toDecimal toUUID toBool toString toDate toDateTime toTypeName", A12),
    **_many(
        "toInt8 toInt16 toInt32 toInt64 toUInt8 toUInt16 toUInt32 toUInt64 toFloat32 toFloat64 toInt64OrNull"
        " toFloat64OrNull toIntOrNull toFloatOrNull toStringOrNull toDateOrNull toUUIDOrNull toInt64OrZero"
        " toFloat64OrZero toUnixTimestamp toUnixTimestamp64Milli reinterpretAsString",
        A12,
    ),
    **_many("parseDateTime parseDateTimeBestEffort parseDateTimeBestEffortOrNull parseDateTime64BestEffortOrNull", A13),
    "accurateCastOrNull": A2,
    "fromUnixTimestamp": A12,
    "fromUnixTimestamp64Milli": A12,
    "toDateTime64": A13,
    "toDecimal64": A2,
    # dates and times
    **_many("now today yesterday", FunctionMeta(0, 1)),
    **_many(
        "toStartOfDay toStartOfHour toStartOfMinute toStartOfMonth toStartOfQuarter toStartOfYear toMonday"
        " toStartOfFiveMinutes toStartOfTenMinutes toStartOfFifteenMinutes toYear toQuarter toMonth toDayOfMonth"
        " toDayOfWeek toDayOfYear toHour toMinute toSecond toYYYYMM toYYYYMMDD toISOWeek toISOYear toWeek"
        " toStartOfWeek toStartOfISOYear",
        A12,
    ),
    **_many("toTimeZone toStartOfInterval", A23),
    **_many("dateDiff date_diff", FunctionMeta(3, 4)),
    "age": FunctionMeta(3, 4),  # full units between two moments (StickinessQuery intervalCount)
    **_many("dateAdd dateSub date_add date_sub timestampAdd timestampSub", A3),
    **_many("dateTrunc date_trunc", A23),
    "formatDateTime": A23,
    **_many(
        "addSeconds addMinutes addHours addDays addWeeks addMonths addYears subtractSeconds subtractMinutes"
        " subtractHours subtractDays subtractWeeks subtractMonths subtractYears",
        A2,
    ),
    **_many(
        "toIntervalSecond toIntervalMinute toIntervalHour toIntervalDay toIntervalWeek toIntervalMonth toIntervalYear",
        A1,
    ),
    # strings
    **_many("length empty notEmpty lower upper reverse lowerUTF8 upperUTF8 lengthUTF8 trimLeft trimRight trim", A1),
    **_many("trimBoth base64Encode base64Decode hex unhex toValidUTF8 initcap", A1),
    "concat": A1N,
    "concatWithSeparator": A2N,
    **_many("substring substringUTF8 substr", A23),
    **_many("leftPad rightPad", A23),
    **_many("left right repeat", A2),
    **_many("replaceOne replaceAll replaceRegexpOne replaceRegexpAll", A3),
    **_many("position positionCaseInsensitive positionUTF8 locate", A23),
    **_many("startsWith endsWith", A2),
    **_many("extract extractAll splitByChar splitByString splitByRegexp", A23),
    **_many("arrayStringConcat", A12),
    "format": A1N,
    **_many("multiSearchAny multiMatchAny", A2),
    **_many("lengthUTF8", A1),
    # JSON
    **_many(
        "JSONHas JSONLength JSONType JSONExtractUInt JSONExtractInt JSONExtractFloat JSONExtractBool"
        " JSONExtractString JSONExtractRaw JSONExtractArrayRaw JSONExtractKeys JSONExtractKeysAndValues",
        A1N,
    ),
    "JSONExtract": A2N,
    # URLs
    **_many(
        "protocol domain domainWithoutWWW topLevelDomain firstSignificantSubdomain path pathFull queryString"
        " fragment cutWWW cutQueryString cutFragment decodeURLComponent encodeURLComponent",
        A1,
    ),
    **_many("extractURLParameter cutURLParameter", A2),
    "extractURLParameters": A1,
    # arrays, tuples, maps
    "array": A0N,
    "tuple": A0N,
    "map": A0N,
    "range": A13,
    **_many("has hasAll hasAny indexOf countEqual arrayElement tupleElement arrayPushBack arrayPushFront", A2),
    **_many("arrayConcat arrayZip", A1N),
    **_many("arraySlice", A23),
    **_many(
        "arrayMap arrayFilter arrayExists arrayAll arrayFirst arrayLast arrayFirstIndex arraySort"
        " arrayReverseSort arrayCount arraySum arrayAvg arrayMin arrayMax arrayCumSum arraySplit arrayFill",
        A1N,
    ),
    **_many("arrayDistinct arrayReverse arrayCompact arrayFlatten arrayEnumerate arrayUniq arrayJoin", A1N),
    **_many("arrayIntersect arrayPopBack arrayPopFront emptyArrayString", A0N),
    **_many("arrayShiftLeft arrayShiftRight", A23),
    **_many("emptyArrayInt64 emptyArrayFloat64", A0),
    "arrayFold": FunctionMeta(3, None),  # (lambda, arrays…, initial): FunnelsQuery's per-actor matching
    "arrayDifference": A1,  # PathsQuery's gaps between a person's events
    **_many("mapKeys mapValues", A1),
    "mapContains": A2,
    # maths and hashing
    **_many("round floor ceil roundDown", A12),
    **_many("exp log log2 log10 sqrt cbrt sign", A1),
    "pow": A2,
    "power": A2,
    **_many("least greatest min2 max2", A2),
    **_many("rand rand64 generateUUIDv4", A0N),
    **_many("bitAnd bitOr bitXor bitShiftLeft bitShiftRight bitTest", A2),
    "bitNot": A1,
    **_many("cityHash64 sipHash64 xxHash64 murmurHash3_64 MD5 SHA256", A1N),
    # window functions
    **_many("row_number rank dense_rank", A0),
    **_many("first_value last_value", A1),
    "nth_value": A2,
    **_many("lagInFrame leadInFrame lag lead", A13),
    # misc
    **_many("toIPv4 toIPv6 IPv4NumToString", A1),
    "ifNotFinite": A2,
    "finalizeAggregation": A1,
    "isFinite": A1,
    "isNaN": A1,
    "bar": FunctionMeta(3, 4),
}

_AGG = FunctionMeta(0, 1, aggregate=True)
AGG1 = FunctionMeta(1, 1, aggregate=True)
AGG2 = FunctionMeta(2, 2, aggregate=True)
AGG1N = FunctionMeta(1, None, aggregate=True)
AGGREGATIONS: dict[str, FunctionMeta] = {
    "count": _AGG,
    "countIf": FunctionMeta(1, 2, aggregate=True),
    "countDistinctIf": FunctionMeta(2, 2, aggregate=True),
    **_many(
        "min max sum avg any anyLast anyHeavy uniq uniqExact uniqHLL12 uniqTheta uniqCombined"
        " median stddevPop stddevSamp varPop varSamp sumMap minMap maxMap groupBitAnd groupBitOr",
        AGG1N,
    ),
    **_many(
        "minIf maxIf sumIf avgIf anyIf anyLastIf uniqIf uniqExactIf groupArrayIf groupUniqArrayIf medianIf",
        AGG1N,
    ),
    **_many("argMin argMax covarPop covarSamp corr simpleLinearRegression", AGG2),
    **_many("argMinIf argMaxIf", FunctionMeta(3, 3, aggregate=True)),
    "countMerge": AGG1,
    "argMaxMerge": AGG1,
    "argMinMerge": AGG1,
    "uniqMerge": AGG1,
    "sumIfMerge": AGG1,
    **_many(
        "quantile quantiles quantileIf quantilesIf quantileExact quantileTiming quantileDeterministic",
        FunctionMeta(1, None, 1, None, aggregate=True),
    ),
    **_many("groupArray groupUniqArray", FunctionMeta(1, None, 0, 1, aggregate=True)),  # (max_size)(x)
    "groupArrayArray": AGG1,  # the arrays' elements in one array (FunnelsQuery merges per-distinct-id arrays)
    **_many("topK groupArraySample", FunctionMeta(1, 1, 1, 2, aggregate=True)),
    **_many("groupArrayMovingSum", FunctionMeta(1, 1, 0, 1, aggregate=True)),
}
for _name in ("quantileExactInclusive", "quantileExactInclusiveIf"):  # interpolating, deterministic (funnels)
    AGGREGATIONS[_name] = FunctionMeta(1, None, 1, 1, aggregate=True)
for _name in ("quantile", "quantileIf", "quantileExact", "quantileTiming", "quantileDeterministic"):
    AGGREGATIONS[_name] = FunctionMeta(1, None, 1, 1, aggregate=True)

CASE_INSENSITIVE = {
    name.lower(): name
    for name in ("count", "now", "if", "not", "and", "or", "least", "greatest", "coalesce", "sum", "avg", "min", "max")
}
ALL_NAMES = sorted({*SCALARS, *AGGREGATIONS})


def _combined(name: str) -> FunctionMeta | None:
    """`<aggregate>State(args)` (a partial aggregate) and `<aggregate>Merge(state)` of any allowed aggregate,
    with its parameters: `uniqExactState(person_id)`, `quantileMerge(0.5)(state)`."""
    for suffix, merge in (("State", False), ("Merge", True)):
        base = AGGREGATIONS.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
        if base is not None:
            return replace(base, min_args=1, max_args=1) if merge else base
    return None


def lookup(name: str) -> tuple[str, FunctionMeta] | None:
    """(canonical name, meta) for an allowed function, else None."""
    for table in (AGGREGATIONS, SCALARS):
        if name in table:
            return name, table[name]
    combined = _combined(name)
    if combined is not None:
        return name, combined
    canonical = CASE_INSENSITIVE.get(name.lower())
    if canonical:
        return canonical, AGGREGATIONS.get(canonical) or SCALARS[canonical]
    return None


def suggestion(name: str) -> str | None:
    matches = difflib.get_close_matches(name, ALL_NAMES, n=1)
    return matches[0] if matches else None
