"""Encrypted model fields and blind indexes.

The model attribute holds plaintext; the database column holds a vault token
``hv1.<data key id>.<data>`` bound by associated data to (table, column, primary key), so a
ciphertext copied to another row or column fails to decrypt. Models using these fields must
have their primary key set before saving, e.g. ``UUIDField(primary_key=True,
default=uuid.uuid4)``.

Values are decrypted lazily on first attribute access and then cached on the instance.
Filtering and ordering on an encrypted column are refused (only ``isnull``); search with a
:class:`BlindIndexField` and :func:`index_for`, then compare decrypted candidates.

Writes go through ``save()`` / ``bulk_create()`` only: ``QuerySet.update()`` and
``bulk_update()`` cannot encrypt (they do not know the row) and are refused.
"""

from __future__ import annotations

import datetime
import json
import operator
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.core.exceptions import FieldError
from django.db import models
from django.db.models.base import DEFERRED
from django.db.models.expressions import Col
from django.db.models.lookups import Exact, In, IsNull
from django.db.models.query_utils import DeferredAttribute

from haven.vault import blind_index, crypto
from haven.vault.keyring import blind_index_keys, get_keyring, keyring_with

if TYPE_CHECKING:  # Django's field classes take no type parameters at run time
    _TextField = models.TextField[Any, Any]
    _CharField = models.CharField[Any, Any]
else:
    _TextField = models.TextField
    _CharField = models.CharField


# What a loaded instance's sealed tokens are bound to: (pk, owner, owner known), the row (and,
# for a case-owned record, the owner) it was loaded as, so a changed pk or owner is re-sealed on
# save rather than breaking decryption. One per loaded row (not a binding per token), kept in
# the instance's ``__dict__`` under _LOADED; a plain tuple, as one is made for every row loaded.
_LoadedRow = tuple[Any, "str | None", bool]
_LOADED = "_vault_loaded"
_NOT_LOADED: _LoadedRow = (None, None, False)  # read as a row whose owner is not known
# The row's part of the associated data (crypto.row_aad of its id and owner), kept beside it:
# made by the row's first decryption, shared by its cells.
_ROW_PART = "_vault_row_part"


class SealedToken(str):
    """A token read from the database, not yet decrypted. A token of a loaded row is read
    with the row (and owner) its instance was loaded as (``_LoadedRow``); ``row_id``
    and ``owner`` set on the token itself take precedence."""

    row_id: str | None = None
    owner: str | None = None
    owner_known: bool = False


class _OutgoingToken(str):
    """A token produced by ``pre_save`` for this row: the only value the column accepts."""


def owner_field(model: type[models.Model]) -> Any:
    """The foreign key named by the model's ``vault_owner`` (e.g. "case"), or None.

    Encrypted values of such a model are bound to the owner's id as well as to their row, so
    a row re-pointed at another case in the database fails to decrypt.
    """
    cached = model.__dict__.get("_vault_owner_field", _UNSET)
    if cached is _UNSET:
        name = getattr(model, "vault_owner", None)
        cached = model._meta.get_field(name) if name else None
        # Looked up once per model class: every decryption asks.
        model._vault_owner_field = cached  # type: ignore[attr-defined]
    return cached


_UNSET = object()


def owner_binding(owner: Any, value: Any) -> str:
    """The owner part of the associated data, e.g. ``"case_id=<uuid>"`` ("" for no owner)."""
    return f"{owner.column}={'' if value is None else owner.to_python(value)}"


def _current_owner(instance: models.Model) -> str | None:
    owner = owner_field(type(instance))
    if owner is None:
        return None
    return owner_binding(owner, getattr(instance, owner.attname))


def aad_for(
    instance: models.Model,
    field: models.Field[Any, Any],
    row_id: str | None = None,
    token: SealedToken | None = None,
) -> bytes:
    """Associated data for `field` of `instance`; with `token`, the binding it was read with."""
    if row_id is None:
        if instance.pk is None:
            raise FieldError(
                f"{type(instance).__name__}.{field.name} is encrypted and bound to the row id: "
                "set the primary key (e.g. UUIDField(primary_key=True, default=uuid.uuid4)) "
                "before saving"
            )
        row_id = str(instance.pk)
    owner = token.owner if token is not None and token.owner_known else _current_owner(instance)
    return crypto.field_aad(instance._meta.db_table, field.column, row_id, owner)


ColumnSealer = Callable[["EncryptedTextField", Sequence[Any], Sequence[str]], list[str | None]]


def bulk_sealer(model: type[models.Model]) -> ColumnSealer:
    """Seal a column of `model`'s encrypted field for rows written without model instances
    (COPY, executemany): ``seal(field, values, row_ids)`` gives the same tokens `save()`
    writes, each bound to (table, column, its row id), with one key ring for the batch, so a
    key rotation is picked up by the next batch. A column at a time (KeyRing.encrypt_column):
    the key, cipher and associated data's prefix are looked up, and the column's encryptions
    leased, once rather than per value. None stays NULL."""
    if owner_field(model) is not None:
        raise FieldError(f"{model.__name__} is case-owned: write it with save(), not in bulk")
    ring = get_keyring()
    table = model._meta.db_table

    def seal(
        field: EncryptedTextField, values: Sequence[Any], row_ids: Sequence[str]
    ) -> list[str | None]:
        plaintexts = [None if value is None else field.to_plaintext_text(value) for value in values]
        row_parts = [crypto.row_aad(row_id) for row_id in row_ids]
        return ring.encrypt_column(table, field.column, plaintexts, row_parts)

    return seal


Opener = Callable[["EncryptedTextField", Any, str], Any]


def bulk_opener(model: type[models.Model]) -> Opener:
    """The reading side of :func:`bulk_sealer`: open tokens of `model`'s encrypted fields read
    as plain rows (``values_list``: the column comes back sealed, as a :class:`SealedToken`),
    with one key ring for the batch instead of a model instance and a key-ring look-up per
    value. None stays None. Refused for case-owned models (their binding needs the owner)."""
    if owner_field(model) is not None:
        raise FieldError(f"{model.__name__} is case-owned: read it through its model")
    ring = get_keyring()
    table = model._meta.db_table

    def open_(field: EncryptedTextField, token: Any, row_id: str) -> Any:
        nonlocal ring
        if token is None:
            return None
        if not ring.holds_key_of(token):
            ring = keyring_with(crypto.key_id_of(token))  # a key made elsewhere: reload once
        aad = crypto.field_aad(table, field.column, row_id)
        return field.from_plaintext_text(ring.decrypt(str(token), aad))

    return open_


def create_sealed(model: type[Any], sealed: dict[str, Any], **fields: Any) -> Any:
    """Insert a row whose id the database assigns (AutoField), then seal ``sealed`` (name ->
    plaintext of EncryptedTextFields declared ``null=True``) bound to that id. Call inside the
    caller's transaction, so the row never commits without its values."""
    row = model.objects.create(**fields, **dict.fromkeys(sealed))
    for name, value in sealed.items():
        setattr(row, name, value)
    row.save(update_fields=list(sealed))
    return row


def seal_plaintext_column(table: str, column: str, connection: Any) -> int:
    """Migration helper: encrypt in place the values of a column that was plain text before it
    became an EncryptedTextField (each bound to its row id, as save() would). Returns how many
    rows it sealed; values that are already tokens are left alone, so it can run again."""
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, {quote(column)} FROM {quote(table)} "  # noqa: S608 - names from code
            f"WHERE {quote(column)} IS NOT NULL"
        )
        rows = [(pk, text) for pk, text in cursor.fetchall() if not text.startswith("hv1.")]
        if not rows:
            return 0
        ring = get_keyring()
        for pk, text in rows:
            token = ring.encrypt(text, crypto.field_aad(table, column, str(pk)))
            cursor.execute(
                f"UPDATE {quote(table)} SET {quote(column)} = %s WHERE id = %s",  # noqa: S608
                [token, pk],
            )
    return len(rows)


def _refused(field: models.Field[Any, Any], what: str) -> FieldError:
    return FieldError(
        f"{field.model.__name__}.{field.name} is encrypted: {what} is refused "
        "(only isnull); search a BlindIndexField with haven.vault.fields.index_for()"
    )


class EncryptedCol(Col):
    """Column of an encrypted field; refuses to be used as an ordering expression.

    Its values are sealed (made :class:`SealedToken`) by ``from_db_value``, a converter call
    per value, except in a query of its own model's instances whose from_db seals them as it
    makes each instance (see _binding_loader); ``values()`` and ``values_list()`` seal theirs
    by the converter as before."""

    sealed_on_load = False

    def select_format(self, compiler: Any, sql: Any, params: Any) -> Any:
        # The compiler formats each selected column before it reads a row.
        query = compiler.query
        self.sealed_on_load = (
            bool(query.default_cols)
            and self.alias == query.base_table
            and _seals_on_load(query.model, self.target)
        )
        return super().select_format(compiler, sql, params)

    def get_db_converters(self, connection: Any) -> list[Any]:
        if self.sealed_on_load:
            return []
        return super().get_db_converters(connection)

    def resolve_expression(self, *args: Any, **kwargs: Any) -> Any:
        raise _refused(self.target, "ordering or using it in an expression")


class EncryptedIsNull(IsNull):
    def __init__(self, lhs: Any, rhs: Any) -> None:
        if isinstance(lhs, EncryptedCol):
            lhs = Col(lhs.alias, lhs.target, lhs.output_field)
        super().__init__(lhs, rhs)


class EncryptedAttribute(DeferredAttribute):
    """Data descriptor: decrypts the stored token on first access and caches the plaintext."""

    def __init__(self, field: EncryptedTextField) -> None:
        super().__init__(field)
        # Read on every access: kept here rather than looked up through the field each time.
        self.attname, self.column = field.attname, field.column

    def __get__(self, instance: Any, cls: Any = None) -> Any:
        if instance is None:
            return self
        data = instance.__dict__
        name = self.attname
        value = data[name] if name in data else super().__get__(instance, cls)
        if value.__class__ is not SealedToken:
            return value
        field: EncryptedTextField = self.field  # type: ignore[assignment]
        pk, owner, owner_known = data.get(_LOADED, _NOT_LOADED)
        if not owner_known or value.row_id is not None:
            # Not a loaded row's own token, or its owner was not loaded: the general path.
            value = data[name] = field.decrypt_token(instance, value)
            return value
        # A loaded row's own token, the read every page makes: opened here rather than
        # through decrypt_token (a Python call per cell is a tenth of its cost). The row's
        # part of the associated data is made once and shared by its cells; the cipher and
        # the head of the associated data are the ring's.
        row_part = data.get(_ROW_PART)
        if row_part is None:
            row_part = data[_ROW_PART] = crypto.row_aad(str(pk), owner)
        try:
            text = get_keyring().open_cell(value, instance._meta.db_table, self.column, row_part)
        except KeyError:  # a key made elsewhere: decrypt_token reloads the ring once
            value = field.decrypt_token(instance, value)
        else:
            value = field.from_plaintext_text(text)
        data[name] = value
        return value

    def __set__(self, instance: Any, value: Any) -> None:
        data = instance.__dict__
        if value.__class__ is SealedToken and _LOADED in data:
            # A loaded instance reads its tokens as its own row's (one binding per row, see
            # _LoadedRow): a token from elsewhere would be kept as it is on save, unreadable.
            raise FieldError(
                f"{type(instance).__name__}.{self.field.name} is encrypted: assign plaintext, "
                "not a token read from the database"
            )
        data[self.attname] = value


# Per model class: (primary key attribute name, owner field or None), looked up once per
# class: every row loaded asks.
_LOAD_PLANS: dict[type[models.Model], tuple[str, Any]] = {}
# Per model class: the field names its last query loaded it with (one list for every row of a
# query) and that query's _LoadShape.
_LOAD_SHAPES: dict[type[models.Model], tuple[Any, _LoadShape]] = {}
# The from_db functions that seal encrypted columns as they make instances.
_SEALING_LOADERS: set[Callable[..., Any]] = set()


class _LoadShape(NamedTuple):
    """How a row of some columns becomes an instance (see _load_shape)."""

    # ``(*values, DEFERRED)`` -> the value of each concrete field, DEFERRED for a column not
    # loaded and for an encrypted one (set into the instance by `sealed`, not by __init__).
    spread: Callable[[tuple[Any, ...]], Any]
    # (attname, position in values) of each encrypted column loaded.
    sealed: tuple[tuple[str, int], ...]


def _load_plan(model: type[models.Model]) -> tuple[str, Any]:
    plan = _LOAD_PLANS[model] = (model._meta.pk.attname, owner_field(model))
    return plan


def _load_shape(model: type[models.Model], field_names: Any) -> _LoadShape:
    """What Model.from_db does with a row of `field_names` (each concrete field loaded takes
    the next value, the others are DEFERRED), as one C call (operator.itemgetter) instead of
    a Python loop over the fields, and without Model.__init__ calling the encrypted fields'
    descriptors: their values are set into the instance's __dict__ directly."""
    fields = model._meta.concrete_fields
    deferred = len(field_names)  # the position of DEFERRED: values match field_names
    positions: list[int] = []
    sealed: list[tuple[str, int]] = []
    loaded = 0
    for field in fields:
        if field.attname not in field_names:
            positions.append(deferred)
            continue
        if isinstance(field, EncryptedTextField):
            sealed.append((field.attname, loaded))
            positions.append(deferred)
        else:
            positions.append(loaded)
        loaded += 1
    shape = _LoadShape(operator.itemgetter(*positions), tuple(sealed))
    _LOAD_SHAPES[model] = (field_names, shape)
    return shape


def _seals_on_load(model: Any, field: Any) -> bool:
    """Whether `field`'s column, selected for `model` instances, is sealed by from_db."""
    if model is None or model._meta.concrete_model is not field.model:
        return False
    return getattr(model.from_db, "__func__", None) in _SEALING_LOADERS


def _binding_loader(loader: Callable[..., Any]) -> Callable[..., Any]:
    """``Model.from_db`` (``loader``) that, on load, also remembers which row (and owner) the
    instance's tokens belong to (``_LoadedRow``). In front of Django's own, it makes the
    instance as _load_shape says and seals the encrypted columns' values itself (a check per
    value instead of a converter call, see EncryptedCol.sealed_on_load): before, or in front
    of another from_db, the converter has sealed them."""
    shapes = loader is models.Model.from_db.__func__  # type: ignore[attr-defined]

    def from_db(model: Any, db: Any, field_names: Any, values: Any) -> Any:
        if shapes:
            known = _LOAD_SHAPES.get(model)
            shape = known[1] if known and known[0] is field_names else None
            if shape is None:
                shape = _load_shape(model, field_names)
            instance = loader(model, db, field_names, shape.spread((*values, DEFERRED)))
            data = instance.__dict__
            for attname, position in shape.sealed:
                token = values[position]
                data[attname] = SealedToken(token) if token.__class__ is str else token
        else:
            instance = loader(model, db, field_names, values)
            data = instance.__dict__
        pk_attname, owner = _LOAD_PLANS.get(model) or _load_plan(model)
        pk = data.get(pk_attname)
        if pk is None:
            pass  # nothing to bind to: decrypting refuses a row without an id
        elif owner is None:  # a model without an owner knows its (absent) owner already
            data[_LOADED] = (pk, None, True)
        elif owner.attname in data:
            data[_LOADED] = (pk, owner_binding(owner, data[owner.attname]), True)
        else:  # a deferred owner column is not loaded here (no query): read when decrypting
            data[_LOADED] = (pk, None, False)
        return instance

    if shapes:
        _SEALING_LOADERS.add(from_db)
    return from_db


def _bound_as(instance: models.Model, token: SealedToken) -> tuple[str | None, str | None, bool]:
    """(row id, owner, owner known) a token was read for: its own if set, else its loaded
    instance's; (None, None, False) for a token of neither."""
    if token.row_id is None:
        loaded: _LoadedRow | None = instance.__dict__.get(_LOADED)
        if loaded is not None:
            pk, owner, owner_known = loaded
            return str(pk), owner, owner_known
    return token.row_id, token.owner, token.owner_known


class EncryptedTextField(_TextField):
    """Text encrypted at rest with the vault key ring (AES-256-GCM, row-bound)."""

    descriptor_class = EncryptedAttribute
    description = "Encrypted text"
    # Types for django-stubs (the attribute holds plaintext).
    _pyi_private_set_type: Any
    _pyi_private_get_type: Any

    # ----------------------------------------------------------- plaintext <-> text

    def to_plaintext_text(self, value: Any) -> str:
        """Python value -> text to encrypt."""
        return str(value)

    # Decrypted text -> Python value: a plain function, a C one where one does it, so reading
    # a cell makes no Python call of its own for it (text is already the value).
    from_plaintext_text: Callable[[str], Any] = staticmethod(str)

    # ----------------------------------------------------------- model wiring

    def contribute_to_class(
        self, cls: type[models.Model], name: str, private_only: bool = False
    ) -> None:
        super().contribute_to_class(cls, name, private_only=private_only)
        if not cls._meta.abstract and "_vault_from_db" not in cls.__dict__:
            # Tokens come only from rows loaded from the database, and every load (queries,
            # select_related, raw, refresh_from_db) makes its instance with Model.from_db:
            # binding there costs a call per row, where a post_init receiver costs a signal
            # dispatch for every instance made.
            cls._vault_from_db = True  # type: ignore[attr-defined]
            loader = cls.from_db.__func__  # type: ignore[attr-defined]
            cls.from_db = classmethod(_binding_loader(loader))  # type: ignore[assignment,method-assign]

    def decrypt_token(self, instance: models.Model, token: SealedToken) -> Any:
        """Plaintext value of a token of `instance` (a loaded row's own tokens are opened by
        the descriptor, see EncryptedAttribute.__get__)."""
        table = instance._meta.db_table
        row_id, owner, owner_known = _bound_as(instance, token)
        if row_id is None:
            if instance.pk is None:
                aad_for(instance, self)  # raises: the value is bound to a row id
            row_id = str(instance.pk)
        if not owner_known:
            owner = _current_owner(instance)
        try:
            plaintext = get_keyring().decrypt_cell(token, table, self.column, row_id, owner)
        except KeyError:  # a key made elsewhere: reload once
            ring = keyring_with(crypto.key_id_of(token))
            plaintext = ring.decrypt(token, crypto.field_aad(table, self.column, row_id, owner))
        return self.from_plaintext_text(plaintext)

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None:
            return None
        return SealedToken(value)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        data = model_instance.__dict__
        value = data.get(self.attname)
        if value is None:
            # NULL has nothing to bind: a row whose id the database assigns (AutoField) can be
            # inserted with NULL and given its sealed value by a second save().
            return None
        aad = aad_for(model_instance, self)  # refuses a row without a primary key
        row_id = str(model_instance.pk)
        if isinstance(value, SealedToken):
            bound_row, bound_owner, owner_known = _bound_as(model_instance, value)
            same_owner = not owner_known or bound_owner == _current_owner(model_instance)
            if bound_row in (None, row_id) and same_owner:
                return _OutgoingToken(value)  # untouched since read: keep the ciphertext
            value = self.decrypt_token(model_instance, value)
            data[self.attname] = value
        if value is None:
            return None
        return _OutgoingToken(self.seal(get_keyring(), value, aad))

    def seal(self, ring: Any, value: Any, aad: bytes) -> str:
        """The one way a value becomes a token: its plaintext form, sealed by `ring`."""
        return str(ring.encrypt(self.to_plaintext_text(value), aad))

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, _OutgoingToken):
            return str.__str__(value)
        raise FieldError(
            f"{self.model.__name__}.{self.name} is encrypted: write it by assigning the "
            "attribute and calling save() (QuerySet.update(), bulk_update() and database "
            "defaults cannot encrypt)"
        )

    def get_db_prep_value(self, value: Any, connection: Any, prepared: bool = False) -> Any:
        return self.get_prep_value(value)

    def to_python(self, value: Any) -> Any:
        return value

    def value_to_string(self, obj: models.Model) -> str:
        value = self.value_from_object(obj)
        return "" if value is None else self.to_plaintext_text(value)

    # ----------------------------------------------------------- queries

    def get_col(self, alias: str | None, output_field: Any = None) -> Any:
        if output_field is None or output_field is self:
            return EncryptedCol(alias, self)  # type: ignore[arg-type]
        return EncryptedCol(alias, self, output_field)  # type: ignore[arg-type]

    @property
    def cached_col(self) -> Any:
        return EncryptedCol(self.model._meta.db_table, self)

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "isnull":
            return EncryptedIsNull
        raise _refused(self, f"lookup '{lookup_name}'")

    def get_transform(self, lookup_name: str) -> Any:
        raise _refused(self, f"transform '{lookup_name}'")


class EncryptedDateField(EncryptedTextField):
    """A ``datetime.date`` encrypted at rest (ISO ``YYYY-MM-DD`` inside)."""

    description = "Encrypted date"
    _pyi_private_set_type: datetime.date | None
    _pyi_private_get_type: datetime.date

    def to_plaintext_text(self, value: Any) -> str:
        if isinstance(value, datetime.datetime):
            value = value.date()
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, str):
            return datetime.date.fromisoformat(value).isoformat()
        raise TypeError(f"{self.name} expects a datetime.date, got {type(value).__name__}")

    from_plaintext_text = staticmethod(datetime.date.fromisoformat)

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return models.DateField(null=self.null, blank=self.blank).formfield(**kwargs)


class EncryptedJSONField(EncryptedTextField):
    """Any JSON-serialisable value (coordinates, small structures) encrypted at rest."""

    description = "Encrypted JSON"

    def to_plaintext_text(self, value: Any) -> str:
        return json.dumps(value, separators=(",", ":"), sort_keys=True, ensure_ascii=False)

    from_plaintext_text = staticmethod(json.loads)

    def formfield(self, **kwargs: Any) -> Any:  # type: ignore[override]
        return models.JSONField(null=self.null, blank=self.blank).formfield(**kwargs)


# --------------------------------------------------------------------------- blind indexes

KINDS: dict[str, tuple[int, Callable[..., str]]] = {
    "name": (1, blind_index.name_index),
    "dob": (1, blind_index.dob_index),
    "name_dob": (2, blind_index.name_dob_index),
}


def _bits() -> int:
    """HAVEN_BLIND_INDEX_BITS when set; otherwise what `recommended_bits()` gives for the
    expected rows per column (HAVEN_BLIND_INDEX_EXPECTED_ROWS), so that each index value
    covers several rows and the index is no fingerprint."""
    configured = getattr(settings, "HAVEN_BLIND_INDEX_BITS", None)
    if configured:
        return int(configured)
    expected = int(getattr(settings, "HAVEN_BLIND_INDEX_EXPECTED_ROWS", 100_000))
    return blind_index.recommended_bits(expected)


class BlindIndexValue(str):
    """A search for `kind` over `values`. The exact lookup on a BlindIndexField computes the
    value under that column's own key (and, during a rotation, under the previous key too);
    the string itself is the value under the unkeyed-by-column key, which matches no column."""

    alternatives: tuple[str, ...] = ()
    kind: str = ""
    values: tuple[Any, ...] = ()


def _index_or_none(kind: str, values: tuple[Any, ...], key: bytes | None = None) -> str | None:
    if kind not in KINDS:
        raise ValueError(f"unknown blind index kind {kind!r}: use one of {', '.join(KINDS)}")
    arity, function = KINDS[kind]
    if len(values) != arity:
        raise ValueError(f"blind index kind {kind!r} takes {arity} value(s), got {len(values)}")
    if any(value is None or value == "" for value in values):
        return None
    try:
        return function(key or blind_index_keys()[0], *values, bits=_bits())
    except ValueError:
        if kind == "dob":
            raise
        # A name with no letters or digits ("--") has nothing to index.
        return None


def index_for(kind: str, *values: Any) -> str:
    """Blind index value to search a BlindIndexField of ``kind`` for, e.g.
    ``Person.objects.filter(name_idx=index_for("name", "siobhan o'brien"))``.

    Results are candidates (the index is truncated): compare decrypted values to confirm.
    Raises ValueError for a value that cannot be indexed (empty name, unreadable date).
    """
    write_key, search_keys = blind_index_keys()
    result = _index_or_none(kind, values, write_key)
    if result is None:
        raise ValueError(f"nothing to index for {kind!r} from {values!r}")
    value = BlindIndexValue(result)
    value.kind, value.values = kind, values
    return value


class BlindIndexExact(Exact):  # type: ignore[type-arg]
    """``field=index_for(...)``: also matches the previous key's value during a rotation."""

    def __init__(self, lhs: Any, rhs: Any) -> None:
        self.alternatives: tuple[str, ...] = ()
        column = getattr(lhs, "target", None)
        if isinstance(rhs, BlindIndexValue) and rhs.kind and isinstance(column, BlindIndexField):
            if rhs.kind != column.kind:
                raise ValueError(f"{column.name} indexes {column.kind!r}, not {rhs.kind!r}")
            current, *previous = column.search_values(rhs.values)
            rhs, self.alternatives = current, tuple(previous)
        super().__init__(lhs, rhs)

    def as_sql(self, compiler: Any, connection: Any) -> Any:
        if self.alternatives:
            either: Any = In(self.lhs, [str(self.rhs), *self.alternatives])
            return either.as_sql(compiler, connection)
        return super().as_sql(compiler, connection)


class BlindIndexField(_CharField):
    """Truncated HMAC of normalised plaintext source field(s), computed on save."""

    description = "Blind index"

    def __init__(
        self, *args: Any, kind: str = "name", sources: tuple[str, ...] = (), **kwargs: Any
    ) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown blind index kind {kind!r}: use one of {', '.join(KINDS)}")
        sources = tuple(sources)
        if len(sources) != KINDS[kind][0]:
            raise ValueError(f"blind index kind {kind!r} needs {KINDS[kind][0]} source field(s)")
        self.kind = kind
        self.sources = sources
        kwargs.setdefault("max_length", blind_index.MAX_BITS // 4)
        kwargs["null"] = True
        kwargs["blank"] = True
        kwargs["editable"] = False
        kwargs.setdefault("db_index", True)
        super().__init__(*args, **kwargs)

    def deconstruct(self) -> Any:
        name, path, args, kwargs = super().deconstruct()
        kwargs["kind"] = self.kind
        kwargs["sources"] = self.sources
        for key in ("null", "blank", "editable"):
            kwargs.pop(key, None)
        return name, path, args, kwargs

    def column_key(self, key: bytes | None = None) -> bytes:
        """This column's own key, derived from `key` (default: the current blind-index key)."""
        root = key or blind_index_keys()[0]
        return blind_index.column_key(root, self.model._meta.db_table, self.column)

    def compute(self, instance: models.Model, key: bytes | None = None) -> str | None:
        """Index value of the instance's sources under this column's key derived from `key`
        (default: the current blind-index key)."""
        values = tuple(getattr(instance, s) for s in self.sources)
        return _index_or_none(self.kind, values, self.column_key(key))

    def search_values(self, values: tuple[Any, ...]) -> list[str]:
        """The value to search this column for, under the current key, then under the keys
        a rotation in progress still accepts."""
        write_key, search_keys = blind_index_keys()
        keys = [write_key, *(key for key in search_keys if key != write_key)]
        return [str(_index_or_none(self.kind, values, self.column_key(key))) for key in keys]

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name == "exact":
            return BlindIndexExact
        return super().get_lookup(lookup_name)

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = self.compute(model_instance)
        setattr(model_instance, self.attname, value)
        return value
