"""The user and group models of django-scim2's own test suite (tests/models.py): Django's
AbstractUser and a named group, each with the library's SCIM mixins; nothing added."""
from django.contrib.auth.models import AbstractUser
from django.db import models
from django_scim import models as scim_models


class TestGroup(scim_models.AbstractSCIMGroupMixin):
    name = models.CharField("name", max_length=80, unique=True)


class TestUser(scim_models.AbstractSCIMUserMixin, AbstractUser):
    scim_groups = models.ManyToManyField(TestGroup, related_name="user_set")


def get_group_model():
    return TestGroup
