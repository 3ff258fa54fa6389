# Database fixtures come from tests/fixtures_db.py, loaded as a plugin by the root conftest.
