from tests.support.fixtures import fake_discord, pytest_configure

__all__ = ["fake_discord", "pytest_configure"]
