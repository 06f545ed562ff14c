"""Metadata payloads: API versions, resources, describeGlobal, sObject basic info and describe."""

from typing import Any

from appflow_dagster.sandbox.salesforce.schema import OBJECTS, Field, SObject

VERSIONS = [f"{v}.0" for v in range(20, 63)]
_SEASONS = ["Winter", "Spring", "Summer"]
_SOAP = {
    "id": "tns:ID",
    "reference": "tns:ID",
    "boolean": "xsd:boolean",
    "double": "xsd:double",
    "currency": "xsd:double",
    "percent": "xsd:double",
    "int": "xsd:int",
    "date": "xsd:date",
    "datetime": "xsd:dateTime",
}


def version_label(version: str) -> str:
    """Release name of an API version: 20.0 is Winter '11, then three releases a year."""
    n = int(float(version)) - 20
    return f"{_SEASONS[n % 3]} '{11 + n // 3:02d}"


def versions() -> list[dict[str, str]]:
    return [{"label": version_label(v), "url": f"/services/data/v{v}", "version": v} for v in VERSIONS]


def resources(version: str) -> dict[str, str]:
    base = f"/services/data/v{version}"
    names = [
        "tooling",
        "metadata",
        "eclair",
        "folders",
        "prechatForms",
        "chatter",
        "tabs",
        "appMenu",
        "quickActions",
        "queryAll",
        "commerce",
        "wave",
        "search",
        "identity",
        "composite",
        "parameterizedSearch",
        "theme",
        "nouns",
        "recent",
        "licensing",
        "limits",
        "async-queries",
        "query",
        "jobs",
        "sobjects",
        "actions",
        "support",
    ]
    out = {n: f"{base}/{n}" for n in names}
    out["identity"] = "/id/00D8d0000000001EAA/0058d000001AbCdAAK"
    return out


def _urls(so: SObject, version: str) -> dict[str, str]:
    base = f"/services/data/v{version}/sobjects/{so.name}"
    return {
        "compactLayouts": f"{base}/describe/compactLayouts",
        "rowTemplate": f"{base}/{{ID}}",
        "approvalLayouts": f"{base}/describe/approvalLayouts",
        "describe": f"{base}/describe",
        "quickActions": f"{base}/quickActions",
        "layouts": f"{base}/describe/layouts",
        "sobject": base,
    }


def basic(so: SObject, version: str) -> dict[str, Any]:
    """The describeGlobal entry of an object (also ``objectDescribe`` of the basic-info resource)."""
    return {
        "activateable": False,
        "associateEntityType": None,
        "associateParentEntity": None,
        "createable": True,
        "custom": False,
        "customSetting": False,
        "deepCloneable": False,
        "deletable": True,
        "deprecatedAndHidden": False,
        "feedEnabled": True,
        "hasSubtypes": False,
        "isInterface": False,
        "isSubtype": False,
        "keyPrefix": so.key_prefix,
        "label": so.label,
        "labelPlural": so.label_plural,
        "layoutable": True,
        "mergeable": so.name in ("Account", "Contact", "Lead"),
        "mruEnabled": True,
        "name": so.name,
        "queryable": True,
        "replicateable": True,
        "retrieveable": True,
        "searchable": True,
        "triggerable": True,
        "undeletable": True,
        "updateable": True,
        "urls": _urls(so, version),
    }


def describe_global(version: str) -> dict[str, Any]:
    return {
        "encoding": "UTF-8",
        "maxBatchSize": 200,
        "sobjects": [basic(so, version) for so in OBJECTS.values()],
    }


def field_describe(f: Field) -> dict[str, Any]:
    t = f.type
    text = t in ("string", "textarea", "picklist", "email", "phone", "url", "id", "reference")
    system = f.name in (
        "Id",
        "IsDeleted",
        "CreatedDate",
        "CreatedById",
        "LastModifiedDate",
        "LastModifiedById",
        "SystemModstamp",
    )
    return {
        "aggregatable": t != "textarea",
        "aiPredictionField": False,
        "autoNumber": bool(f.extra.get("autoNumber")),
        "byteLength": f.length * 3 if text else 0,
        "calculated": False,
        "calculatedFormula": None,
        "cascadeDelete": False,
        "caseSensitive": False,
        "compoundFieldName": None,
        "controllerName": None,
        "createable": not system,
        "custom": False,
        "defaultValue": None,
        "defaultValueFormula": None,
        "defaultedOnCreate": system or t == "boolean",
        "dependentPicklist": False,
        "deprecatedAndHidden": False,
        "digits": f.extra.get("digits", 0),
        "displayLocationInDecimal": False,
        "encrypted": False,
        "externalId": False,
        "extraTypeInfo": None,
        "filterable": t != "textarea" or f.length <= 255,
        "filteredLookupInfo": None,
        "formulaTreatNullNumberAsZero": False,
        "groupable": t not in ("textarea", "double", "currency", "percent", "datetime"),
        "highScaleNumber": False,
        "htmlFormatted": False,
        "idLookup": t == "id",
        "inlineHelpText": None,
        "label": f.label,
        "length": f.length if text else 0,
        "mask": None,
        "maskType": None,
        "name": f.name,
        "nameField": bool(f.extra.get("nameField")),
        "namePointing": False,
        "nillable": f.nillable,
        "permissionable": f.nillable and not system,
        "picklistValues": [
            {"active": True, "defaultValue": False, "label": v, "validFor": None, "value": v}
            for v in f.picklist
        ],
        "polymorphicForeignKey": False,
        "precision": f.extra.get("precision", 0),
        "queryByDistance": False,
        "referenceTargetField": None,
        "referenceTo": list(f.reference_to),
        "relationshipName": f.relationship,
        "relationshipOrder": None,
        "restrictedDelete": False,
        "restrictedPicklist": False,
        "scale": f.extra.get("scale", 0),
        "searchPrefilterable": t == "reference",
        "soapType": _SOAP.get(t, "xsd:string"),
        "sortable": t != "textarea",
        "type": t,
        "unique": False,
        "updateable": not system and not f.extra.get("autoNumber"),
        "writeRequiresMasterRead": False,
    }


def describe(so: SObject, version: str) -> dict[str, Any]:
    children = [
        {
            "cascadeDelete": False,
            "childSObject": child.name,
            "deprecatedAndHidden": False,
            "field": f.name,
            "junctionIdListNames": [],
            "junctionReferenceTo": [],
            "relationshipName": child.label_plural.replace(" ", ""),
            "restrictedDelete": False,
        }
        for child in OBJECTS.values()
        for f in child.fields
        if so.name in f.reference_to
    ]
    out = basic(so, version)
    out.update(
        {
            "actionOverrides": [],
            "childRelationships": children,
            "compactLayoutable": True,
            "defaultImplementation": None,
            "extendedBy": None,
            "extendsInterfaces": None,
            "fields": [field_describe(f) for f in so.fields],
            "implementedBy": None,
            "implementsInterfaces": None,
            "listviewable": None,
            "lookupLayoutable": None,
            "namedLayoutInfos": [],
            "networkScopeFieldName": None,
            "recordTypeInfos": [
                {
                    "active": True,
                    "available": True,
                    "defaultRecordTypeMapping": True,
                    "developerName": "Master",
                    "master": True,
                    "name": "Master",
                    "recordTypeId": "012000000000000AAA",
                    "urls": {
                        "layout": f"/services/data/v{version}/sobjects/{so.name}/describe/layouts/012000000000000AAA"
                    },
                }
            ],
            "searchLayoutable": True,
            "supportedScopes": [{"label": "All " + so.label_plural.lower(), "name": "everything"}],
            "sobjectDescribeOption": "FULL",
        }
    )
    return out
