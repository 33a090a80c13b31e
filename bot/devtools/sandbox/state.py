"""The MK.IO organization's mutable state and its JSON objects.

State changes (payment method assignment, metrics export) are kept as history where they
affect billing: usage before a payment-method change stays on the old method.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from bot.devtools.sandbox import catalog
from bot.devtools.sandbox.catalog import Meter, PaymentMethodDef, ProjectDef
from bot.devtools.sandbox.errors import ApiError
from bot.devtools.sandbox.ids import stable_hex, stable_uuid


@dataclass(slots=True)
class ProjectState:
    definition: ProjectDef
    id: str
    active: bool
    assignments: list[tuple[date, str]]
    """(first day, payment method key), oldest first."""
    metrics_enabled: bool

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def method_key(self) -> str | None:
        return self.assignments[-1][1] if self.assignments else None


class MkioState:
    """Projects, payment methods, rate cards and metrics endpoints of one sandbox org."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.organization_id = stable_uuid(seed, "organization")
        self.creator_id = stable_uuid(seed, "creator")
        self.location_id = stable_uuid(seed, "location", catalog.LOCATION_NAME)
        self.cloud_id = stable_uuid(seed, "cloud", catalog.CLOUD_NAME)
        self.methods: dict[str, PaymentMethodDef] = {m.key: m for m in catalog.PAYMENT_METHODS}
        self.method_ids: dict[str, str] = {
            m.key: stable_uuid(seed, "payment-method", m.key) for m in catalog.PAYMENT_METHODS
        }
        self._method_keys_by_id = {value: key for key, value in self.method_ids.items()}
        self.projects: list[ProjectState] = [
            ProjectState(
                definition=project,
                id=stable_uuid(seed, "project", project.name),
                active=project.active,
                assignments=[(date.min, project.payment_method)] if project.payment_method else [],
                metrics_enabled=project.name == "video-platform",
            )
            for project in catalog.PROJECTS
        ]
        self.entitlement_ids: dict[str, str] = {
            project.name: stable_uuid(seed, "entitlement", project.name)
            for project in catalog.PROJECTS
            if project.entitlement_meter
        }

    # lookups

    def project(self, name: str) -> ProjectState:
        index = catalog.PROJECT_INDEX.get(name)
        if index is None:
            raise ApiError(404, f"Project '{name}' was not found.")
        return self.projects[index]

    def method_key(self, method_id: str) -> str:
        """The payment method key for a uuid; 400 for a malformed id, 404 for an unknown one."""
        try:
            canonical = str(uuid.UUID(method_id))
        except (ValueError, AttributeError, TypeError):
            raise ApiError(400, f"'{method_id}' is not a valid payment method id.") from None
        key = self._method_keys_by_id.get(canonical)
        if key is None:
            raise ApiError(404, f"Payment method '{method_id}' was not found.")
        return key

    def method_on(self, project_index: int, day: date) -> str | None:
        """The key of the payment method a project's usage on `day` is billed to."""
        current: str | None = None
        for first_day, key in self.projects[project_index].assignments:
            if first_day > day:
                break
            current = key
        return current

    def projects_of(self, method_key: str) -> list[str]:
        return [p.name for p in self.projects if p.method_key == method_key]

    # changes

    def assign(self, project_name: str, method_id: str, today: date) -> None:
        """Replace the project's payment method from `today` on, and activate the project."""
        project = self.project(project_name)
        key = self.method_key(method_id)
        if project.assignments and project.assignments[-1][0] >= today:
            project.assignments[-1] = (project.assignments[-1][0], key)
        else:
            project.assignments.append((today, key))
        project.active = True

    def set_metrics(self, project_name: str, enabled: bool) -> None:
        self.project(project_name).metrics_enabled = enabled

    # JSON objects

    def project_object(self, project: ProjectState) -> dict[str, Any]:
        definition = project.definition
        return {
            "kind": "Project",
            "metadata": {
                "id": project.id,
                "name": definition.name,
                "displayName": definition.display_name,
                "created": definition.created,
                "updated": definition.created,
                "createdBy": self.creator_id,
                "createdById": self.creator_id,
                "createdByName": catalog.CREATOR_NAME,
                "createdByEmail": catalog.CREATOR_EMAIL,
                "cloud": {
                    "id": self.cloud_id,
                    "name": catalog.CLOUD_NAME,
                    "displayName": catalog.CLOUD_DISPLAY_NAME,
                },
            },
            "spec": {
                "name": definition.name,
                "displayName": definition.display_name,
                "isActive": project.active,
                "locationId": self.location_id,
                "locationName": catalog.LOCATION_NAME,
                "locationDisplayName": catalog.LOCATION_DISPLAY_NAME,
                "assignedPaymentMethodId": (
                    self.method_ids[project.method_key] if project.method_key else None
                ),
            },
        }

    def payment_method_object(self, key: str) -> dict[str, Any]:
        method = self.methods[key]
        return {
            "metadata": {
                "id": self.method_ids[key],
                "displayName": method.display_name,
                "organizationId": self.organization_id,
                "created": "2024-12-01T08:00:00Z",
                "createdBy": self.creator_id,
                "createdByEmail": catalog.CREATOR_EMAIL,
            },
            "spec": self._method_spec(method),
            "status": {"isActive": True, "termsAndConditionsAccepted": True},
            "related": {"projects": self.projects_of(key)},
        }

    def _method_spec(self, method: PaymentMethodDef) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "type": method.type,
            "autoPurchaseBeamLicenses": False,
            "productPublicationName": method.publication_name,
            "startDate": method.start_date,
            "endDate": method.end_date,
            "allowedOrganizations": None,
        }
        if method.type == "azure":
            spec |= {
                "azureOfferId": "mkio-saas",
                "azurePlanName": "pay-as-you-go",
                "azureSaasSubscriptionId": stable_uuid(self.seed, "azure-subscription"),
                "azureSaasSubscriptionName": "Contoso Media MK.IO",
                "azureSaasSubscriptionStatus": "Subscribed",
                "azureSaasSubscriptionAutoRenew": True,
                "azureSaasSubscriptionStart": method.start_date,
                "azureSaasSubscriptionEnd": None,
            }
        elif method.type == "aws":
            spec |= {
                "awsAccountId": str(
                    100_000_000_000 + int(stable_hex(self.seed, "aws", length=8), 16)
                ),
                "awsCustomerId": "cust-" + stable_hex(self.seed, "aws-customer", length=10),
                "awsProductCode": "mkio" + stable_hex(self.seed, "aws-product", length=12),
                "awsStatus": "subscribe-success",
            }
        else:
            spec |= {
                "salesOrderNumber": "SO10042",
                "status": "approved",
                "redeemedBy": catalog.CREATOR_EMAIL,
            }
        return spec

    def rate_card(self, key: str) -> dict[str, Any]:
        method = self.methods[key]
        entries: dict[tuple[str, str], list[dict[str, Any]]] = {}
        for meter in catalog.METERS:
            price = catalog.price_for(method, meter)
            if price is None:
                continue
            entries.setdefault((meter.family, meter.solution), []).append(
                _price_object(meter, price)
            )
        return {
            "kind": "RateCard",
            "metadata": {
                "paymentMethodId": self.method_ids[key],
                "productPublicationId": stable_uuid(self.seed, "publication", key),
                "productPublicationName": method.publication_name,
                "isPrivateOffer": method.is_private_offer,
            },
            "spec": {
                "currency": catalog.CURRENCY,
                "rateCard": [
                    {"family": family, "solution": solution, "prices": prices}
                    for (family, solution), prices in entries.items()
                ],
            },
        }

    def metrics_object(self, project: ProjectState) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "kind": "MetricsEndpoint",
            "spec": {"enabled": project.metrics_enabled},
        }
        if project.metrics_enabled:
            answer["status"] = {
                "url": f"https://metrics.sandbox.invalid/projects/{project.id}/metrics",
                "username": f"metrics-{project.name}",
                "password": stable_hex(self.seed, "metrics-password", project.name, length=32),
            }
        return answer


def _price_object(meter: Meter, price: int) -> dict[str, Any]:
    answer: dict[str, Any] = {
        "name": meter.price_name,
        "displayName": meter.display_name,
        "unit": meter.unit,
        "sku": meter.sku,
        "price": price / 1_000_000,
    }
    if meter.key == "egress":
        answer["locationPrices"] = [
            {"locationGroup": "default", "sku": meter.sku, "price": price / 1_000_000},
            {"locationGroup": "apac", "sku": meter.sku + "-APAC", "price": price * 3 / 2_000_000},
        ]
    return answer
