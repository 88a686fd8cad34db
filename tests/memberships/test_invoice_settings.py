"""The seller and VAT rate of invoices come from the environment, checked at start-up."""

import pytest

from api.config import ConfigurationError, Settings

SECRET = {"JWT_SECRET_KEY": "s" * 32}


def test_seller_and_rate_are_read_from_the_environment():
    settings = Settings.from_env(
        {
            **SECRET,
            "MRM_SELLER_NAME": "Pôle Santé",
            "MRM_SELLER_SIREN": "552120222",
            "MRM_SELLER_VAT_NUMBER": "FR27552120222",
            "MRM_SELLER_ADDRESS": "1 rue de la Paix, 75002 Paris",
            "MRM_VAT_RATE": "5.5",
        }
    )
    assert settings.seller == {
        "name": "Pôle Santé",
        "siren": "552120222",
        "vat_number": "FR27552120222",
        "address": "1 rue de la Paix, 75002 Paris",
    }
    assert settings.vat_rate == "5.5"


@pytest.mark.parametrize("rate", ["twenty", "-1", "101", "NaN", "Infinity"])
def test_unusable_vat_rates_are_refused(rate):
    with pytest.raises(ConfigurationError, match="MRM_VAT_RATE"):
        Settings.from_env({**SECRET, "MRM_VAT_RATE": rate})
