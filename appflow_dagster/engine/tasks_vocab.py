"""AppFlow's task vocabularies (botocore appflow ``2020-08-23``: ``TaskType``, ``Operator``,
``OperatorPropertiesKeys``) and which of them each task type accepts."""

TASK_TYPES: tuple[str, ...] = (
    "Arithmetic", "Filter", "Map", "Map_all", "Mask", "Merge", "Passthrough", "Truncate", "Validate", "Partition",
)  # fmt: skip

OPERATORS: tuple[str, ...] = (
    "PROJECTION", "LESS_THAN", "GREATER_THAN", "CONTAINS", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
    "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO", "ADDITION", "MULTIPLICATION", "DIVISION",
    "SUBTRACTION", "MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N", "VALIDATE_NON_NULL", "VALIDATE_NON_ZERO",
    "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC", "NO_OP",
)  # fmt: skip

PROPERTY_KEYS: tuple[str, ...] = (
    "VALUE", "VALUES", "DATA_TYPE", "UPPER_BOUND", "LOWER_BOUND", "SOURCE_DATA_TYPE",
    "DESTINATION_DATA_TYPE", "VALIDATION_ACTION", "MASK_VALUE", "MASK_LENGTH", "TRUNCATE_LENGTH",
    "MATH_OPERATION_FIELDS_ORDER", "CONCAT_FORMAT", "SUBFIELD_CATEGORY_MAP", "EXCLUDE_SOURCE_FIELDS_LIST",
    "INCLUDE_NEW_FIELDS", "ORDERED_PARTITION_KEYS_LIST",
)  # fmt: skip

_COMPARISONS = frozenset(
    {
        "LESS_THAN", "GREATER_THAN", "CONTAINS", "BETWEEN", "LESS_THAN_OR_EQUAL_TO",
        "GREATER_THAN_OR_EQUAL_TO", "EQUAL_TO", "NOT_EQUAL_TO",
    }
)  # fmt: skip

#: Operators each task type accepts (``None`` connectorOperator means ``NO_OP``).
OPERATORS_BY_TASK: dict[str, frozenset[str]] = {
    "Filter": frozenset({"PROJECTION"}) | _COMPARISONS,
    "Map": frozenset({"NO_OP"}),
    "Map_all": frozenset({"NO_OP"}),
    "Passthrough": frozenset({"NO_OP"}),
    "Partition": frozenset({"NO_OP"}),
    "Merge": frozenset({"NO_OP"}),
    "Truncate": frozenset({"NO_OP"}),
    "Mask": frozenset({"MASK_ALL", "MASK_FIRST_N", "MASK_LAST_N"}),
    "Arithmetic": frozenset({"ADDITION", "SUBTRACTION", "MULTIPLICATION", "DIVISION"}),
    "Validate": frozenset(
        {"VALIDATE_NON_NULL", "VALIDATE_NON_ZERO", "VALIDATE_NON_NEGATIVE", "VALIDATE_NUMERIC"}
    ),
}
