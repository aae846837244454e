"""Shared test settings: hypothesis without wall-clock deadlines (these machines are shared)."""

from hypothesis import HealthCheck, settings

settings.register_profile(
    "jobdeck", deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=100
)
settings.load_profile("jobdeck")
