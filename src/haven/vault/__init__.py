"""Vault: envelope encryption of protected fields and documents (DESIGN.md "Vault").

crypto.py       pure AES-256-GCM envelope scheme and KeyRing
blind_index.py  normalisation and truncated-HMAC blind indexes
keyring.py      KEK / blind-index key loading, DataKey ring cache, startup check (E001)
fields.py       EncryptedTextField / EncryptedDateField / EncryptedJSONField, BlindIndexField,
                index_for()
blobs.py        encrypted blob store (store_blob / read_blob / delete_blob)
rotation.py     status counts, online data-key rotation (compare-and-swap), KEK re-wrap
management/commands/keys.py   `haven keys init|status|rotate|rewrap`
"""
