"""The demo förbund from the seeds (domain.md §9), one module per domain, driven through the
real services with the clock set to the day each thing happened: Ale, Kungälv, Stenungsund och
Tjörn (seed 004), and Norra Västmanland (seed 001), set up from a YAML file."""

from workflow.services.demo.insatser import DOMAIN, NAME, SEED_004, SLUG, DemoResult, load_demo

__all__ = ["DOMAIN", "NAME", "SEED_004", "SLUG", "DemoResult", "load_demo"]
