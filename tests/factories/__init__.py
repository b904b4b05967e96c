"""Test data builders: each adds its object to the session and flushes (never commits)."""

import itertools

from crm.auth import service as auth_service
from crm.customers import service as customer_service
from crm.extensions import db
from crm.orders import service as order_service

_seq = itertools.count(1)


def staff(role: str = "technician", username: str | None = None, password: str = "correct-horse-42",
          full_name: str | None = None):
    n = next(_seq)
    return auth_service.create_staff(db.session, username=username or f"{role}-{n}",
                                     full_name=full_name or f"{role.title()} {n}", role=role, password=password)


def customer(name: str | None = None, phone: str | None = None, region: str = "UA", **kwargs):
    n = next(_seq)
    data = customer_service.CustomerData(name=name or f"Customer {n}", phone=phone or f"+38067{2000000 + n:07d}",
                                         **kwargs)
    return customer_service.create_customer(db.session, data, region=region)


def order(customer_=None, created_by=None, prefix: str = "R-", **kwargs):
    customer_ = customer_ or customer()
    fields = dict(device_type="phone", brand="Apple", model="iPhone 12", problem="Cracked screen")
    fields.update(kwargs)
    return order_service.create_order(db.session, customer_, order_service.OrderData(**fields),
                                      created_by=created_by, number_prefix=prefix)

