"""The fields of a member record, as import files, the API and the synthetic generator name them.

Kept free of Django so that tools which only produce files (``partners.synthetic``) can use it.
"""

# The personal fields, in the order they are sealed. A field's name is part of its ciphertext's
# associated data (``partners.pii``), so renaming one needs a re-encryption migration.
PERSONAL_FIELDS: tuple[str, ...] = (
    "name",
    "name_kana",
    "email",
    "phone",
    "postal_code",
    "address",
    "birth_date",
)

# The columns of an import file and the fields of the API's input, in this order.
COLUMNS: tuple[str, ...] = (
    "member_number",
    "kind",
    *PERSONAL_FIELDS,
    "prefecture",
    "joined_on",
    "last_active_on",
    "status",
)
REQUIRED_COLUMNS: tuple[str, ...] = ("member_number", "kind", "name")
