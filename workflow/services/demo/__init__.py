"""The demo förbund from the seeds (domain.md §9), one module per domain, driven through the
real services with the clock set to the day each thing happened."""

from workflow.services.demo.insatser import DOMAIN, NAME, SEED_004, SLUG, DemoResult, load_demo

__all__ = ["DOMAIN", "NAME", "SEED_004", "SLUG", "DemoResult", "load_demo"]
