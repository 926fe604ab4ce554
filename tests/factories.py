"""factory_boy factories for the models the tests build."""

import factory

from accounts.models import User
from errors.models import ErrorCount
from workflows.models import Step, Workflow


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@cern.ch")
    password = factory.django.Password("correct horse battery staple")


class WorkflowFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Workflow

    name = factory.Sequence(
        lambda n: f"pdmvserv_task_HIG-RunIISummer20UL18wmLHEGEN-{n:05d}__v1_T_240115_1234"
    )
    prep_id = factory.LazyAttribute(lambda w: w.name.split("task_")[1].split("__")[0])
    campaign = factory.LazyAttribute(lambda w: w.prep_id.split("-")[1])


class StepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Step

    workflow = factory.SubFactory(WorkflowFactory)
    name = factory.LazyAttributeSequence(lambda s, n: f"/{s.workflow.name}/Task{n}")


class ErrorCountFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ErrorCount

    step = factory.SubFactory(StepFactory)
    exit_code = 50660
    site = "T2_CH_CERN"
    count = 5
