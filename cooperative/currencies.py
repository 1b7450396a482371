"""ISO 4217 currencies the platform accepts: alphabetic code -> numeric code (the chain
stores the numeric one). The currencies carriers settle in; extend as members need."""

from cooperative.errors import ValidationFailed

ISO_4217 = {
    "AED": 784, "ARS": 32, "AUD": 36, "BGN": 975, "BRL": 986, "CAD": 124, "CHF": 756, "CLP": 152,
    "CNY": 156, "COP": 170, "CZK": 203, "DKK": 208, "EGP": 818, "EUR": 978, "GBP": 826, "HKD": 344,
    "HUF": 348, "IDR": 360, "ILS": 376, "INR": 356, "ISK": 352, "JPY": 392, "KES": 404, "KRW": 410,
    "KWD": 414, "MAD": 504, "MXN": 484, "MYR": 458, "NGN": 566, "NOK": 578, "NZD": 554, "PEN": 604,
    "PHP": 608, "PKR": 586, "PLN": 985, "QAR": 634, "RON": 946, "RSD": 941, "SAR": 682, "SEK": 752,
    "SGD": 702, "THB": 764, "TRY": 949, "TWD": 901, "UAH": 980, "USD": 840, "VND": 704, "ZAR": 710,
}  # fmt: skip


def currency_number(code: str) -> int:
    """The ISO 4217 numeric code the chain stores for an alphabetic one; VALIDATION if the
    platform does not know it."""
    number = ISO_4217.get(code.upper())
    if number is None:
        raise ValidationFailed(
            f"{code!r} is not an ISO 4217 currency the platform knows", field="currency"
        )
    return number


_BY_NUMBER = {number: code for code, number in ISO_4217.items()}


def currency_code(number: int) -> str:
    """The alphabetic code of a numeric one the chain holds ("" for one the platform does
    not know: the chain accepted it from a client of another platform version)."""
    return _BY_NUMBER.get(number, "")
