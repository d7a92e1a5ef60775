"""Documents on a complaint or review (issue 21, oversight duties): uploaded through the core's
checks (type by content, size), encrypted by the vault bound to the complaint, ledgered, seen
only by those who may see the complaint."""

from __future__ import annotations

import base64
from datetime import date

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings

from haven.accounts import services as account_services
from haven.accounts.roles import Clearance, Role
from haven.audit.models import Action, LedgerEntry
from haven.oversight import selectors, services
from haven.oversight.models import Complaint, ComplaintDocument
from haven.vault import documents
from haven.vault.crypto import VaultIntegrityError
from tests.factories import UserFactory, force_sign_in
from tests.oversight.access_rules import TINY_PNG
from tests.oversight.helpers import complaint, handled_with_outcome, officer

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("clock")]

TITLE = "Statement of Ivor Fictional-Complainant"


def web(user) -> Client:
    return force_sign_in(Client(), user)


def api(user) -> Client:
    _, secret = account_services.issue_api_token(user, "test", modules=user.modules, can_write=True)
    return Client(HTTP_AUTHORIZATION=f"Bearer {secret}")


def upload(user, item, **overrides):
    data = {"title": TITLE, "filename": "statement.png", "data": TINY_PNG} | overrides
    return services.upload_document(user, item.pk, **data)


def _ledger(action: str, item: Complaint) -> list[LedgerEntry]:
    return list(LedgerEntry.objects.filter(action=action, object_id=str(item.pk)).order_by("id"))


def test_an_upload_is_encrypted_bound_to_the_complaint_and_ledgered_as_a_collection():
    worker = officer()
    item = complaint(worker)
    document = upload(worker, item)
    assert document.content_type == "image/png" and document.size == len(TINY_PNG)
    stored = next(settings.BLOB_DIR.rglob(document.blob_id)).read_bytes()
    assert TINY_PNG not in stored
    entry = _ledger(Action.COLLECTION, item)[-1]
    assert "documents.content" in entry.fields
    assert entry.details["document"] == str(document.pk)
    assert entry.details["sha256"] == document.sha256
    # Key rotation knows the blob and the owner it is bound to.
    assert (document.blob_id, document.blob_aad()) in ComplaintDocument.stored_blobs()


def test_a_download_is_a_disclosure_to_the_downloader_and_the_list_a_consultation():
    worker, colleague = officer(), officer()
    item = complaint(worker)
    document = upload(worker, item)
    assert selectors.get_documents(colleague, item) == [document]
    assert any("documents.title" in e.fields for e in _ledger(Action.CONSULTATION, item))
    found, data = selectors.read_document(colleague, item.pk, document.pk)
    assert found == document and data == TINY_PNG
    entry = _ledger(Action.DISCLOSURE, item)[-1]
    assert entry.recipients == [colleague.username] and entry.actor_id == colleague.pk


def test_a_blob_moved_to_another_complaint_does_not_open():
    worker = officer()
    item, other = complaint(worker), complaint(worker)
    document = upload(worker, item)
    ComplaintDocument.objects.filter(pk=document.pk).update(complaint=other)
    moved = ComplaintDocument.objects.get(pk=document.pk)
    with pytest.raises(VaultIntegrityError):
        documents.open_sealed(moved.blob_id, moved.blob_aad())


def test_a_document_may_belong_to_a_review_of_the_same_complaint_only():
    worker = officer()
    item = handled_with_outcome(worker, notice_on=date(2025, 6, 2))
    review = services.record_review_application(worker, item.pk, received_on=date(2025, 6, 2))
    document = upload(worker, item, review_id=review.pk)
    assert document.review == review
    other = complaint(worker)
    with pytest.raises(ValidationError) as refused:
        upload(worker, other, review_id=review.pk)
    assert "review" in refused.value.message_dict
    assert ComplaintDocument.objects.count() == 1


@pytest.mark.parametrize(
    "filename,data,message",
    [
        ("notes.pdf", b"just some text pretending to be a PDF", "must be one of"),
        ("photo.pdf", TINY_PNG, "not what its name says"),
        ("empty.png", b"", "Choose a file"),
    ],
)
def test_a_file_that_is_not_what_it_claims_is_refused_and_nothing_is_stored(
    filename, data, message, tmp_path
):
    worker = officer()
    item = complaint(worker)
    # A blob store of its own: the shared one also holds what the other xdist worker writes.
    with override_settings(BLOB_DIR=tmp_path / "blobs"), pytest.raises(ValidationError) as refused:
        upload(worker, item, filename=filename, data=data)
    assert message in refused.value.message_dict["file"][0]
    assert not ComplaintDocument.objects.exists()
    assert not list((tmp_path / "blobs").rglob("bl*"))
    assert not [e for e in _ledger(Action.COLLECTION, item) if "documents.content" in e.fields]


def test_an_oversized_file_is_refused(monkeypatch):
    worker = officer()
    item = complaint(worker)
    monkeypatch.setattr(documents, "DOCUMENT_MAX_BYTES", 10)
    with pytest.raises(ValidationError) as refused:
        upload(worker, item)
    assert "smaller than" in refused.value.message_dict["file"][0]
    assert not ComplaintDocument.objects.exists()


# --------------------------------------------------------------------------------------- web


def test_the_complaint_page_leads_to_upload_and_lists_documents_that_download():
    worker = officer()
    item = complaint(worker)
    client = web(worker)
    page = client.get(f"/oversight/complaints/{item.pk}/").content.decode()
    assert f"/oversight/complaints/{item.pk}/documents/" in page and "No documents yet" in page
    form = client.get(f"/oversight/complaints/{item.pk}/documents/").content.decode()
    assert 'enctype="multipart/form-data"' in form
    response = client.post(
        f"/oversight/complaints/{item.pk}/documents/",
        {"title": TITLE, "file": SimpleUploadedFile("statement.png", TINY_PNG)},
    )
    assert response.status_code == 302
    document = ComplaintDocument.objects.get()
    page = client.get(f"/oversight/complaints/{item.pk}/").content.decode()
    link = f"/oversight/complaints/{item.pk}/documents/{document.pk}/"
    assert TITLE in page and link in page
    download = client.get(link)
    assert download.status_code == 200 and download.content == TINY_PNG
    assert download["Content-Disposition"] == 'attachment; filename="statement.png"'
    assert _ledger(Action.DISCLOSURE, item)[-1].recipients == [worker.username]


def test_the_form_shows_a_field_error_for_a_wrong_type_or_size(monkeypatch):
    worker = officer()
    item = complaint(worker)
    client = web(worker)
    url = f"/oversight/complaints/{item.pk}/documents/"
    wrong = client.post(
        url, {"title": TITLE, "file": SimpleUploadedFile("notes.pdf", b"plain text, not a PDF")}
    )
    assert wrong.status_code == 200 and "must be one of" in wrong.content.decode()
    monkeypatch.setattr(documents, "DOCUMENT_MAX_BYTES", 10)
    big = client.post(url, {"title": TITLE, "file": SimpleUploadedFile("a.png", TINY_PNG)})
    assert big.status_code == 200 and "smaller than" in big.content.decode()
    missing = client.post(url, {"title": ""})
    body = missing.content.decode()
    assert "Give the document a title" in body and "Choose a file to upload" in body
    assert not ComplaintDocument.objects.exists()


# --------------------------------------------------------------------------------------- API


def test_the_api_uploads_lists_and_downloads():
    worker = officer()
    item = complaint(worker)
    client = api(worker)
    url = f"/api/oversight/complaints/{item.pk}/documents"
    created = client.post(
        url,
        {
            "title": TITLE,
            "filename": "statement.png",
            "content_base64": base64.b64encode(TINY_PNG).decode(),
        },
        content_type="application/json",
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["title"] == TITLE and body["content_type"] == "image/png"
    assert [d["id"] for d in client.get(url).json()] == [body["id"]]
    download = client.get(f"{url}/{body['id']}")
    assert download.status_code == 200 and download.content == TINY_PNG


@pytest.mark.parametrize(
    "filename,content",
    [
        ("notes.pdf", base64.b64encode(b"plain text").decode()),
        ("photo.pdf", base64.b64encode(TINY_PNG).decode()),
        ("a.png", "not base64 at all!"),
        ("a.png", base64.b64encode(TINY_PNG).decode()),  # over the (lowered) size limit
    ],
)
def test_the_api_refuses_bad_content_with_problem_json_and_changes_nothing(
    monkeypatch, filename, content
):
    worker = officer()
    item = complaint(worker)
    monkeypatch.setattr(documents, "DOCUMENT_MAX_BYTES", len(TINY_PNG) - 1)
    response = api(worker).post(
        f"/api/oversight/complaints/{item.pk}/documents",
        {"title": TITLE, "filename": filename, "content_base64": content},
        content_type="application/json",
    )
    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert not ComplaintDocument.objects.exists()


# ------------------------------------------------------------------------------ need-to-know


@pytest.mark.parametrize(
    "roles",
    [[Role.PROTECTION_OFFICER], [Role.PROTECTION_MANAGER], [Role.TECHNICAL_SUPERVISOR]],
)
def test_protection_and_technical_roles_can_neither_see_nor_upload(roles):
    worker = officer()
    item = complaint(worker)
    document = upload(worker, item)
    outsider = UserFactory(roles=roles)
    pages = f"/oversight/complaints/{item.pk}/documents/"
    for path in (pages, f"{pages}{document.pk}/"):
        assert web(outsider).get(path).status_code == 404, path
    posted = web(outsider).post(
        pages, {"title": "x", "file": SimpleUploadedFile("a.png", TINY_PNG)}
    )
    assert posted.status_code == 404
    endpoint = f"/api/oversight/complaints/{item.pk}/documents"
    for path in (endpoint, f"{endpoint}/{document.pk}"):
        response = api(outsider).get(path)
        assert response.status_code == 404 and TINY_PNG not in response.content
        assert TITLE not in response.content.decode()
    refused = api(outsider).post(
        endpoint,
        {"title": "x", "filename": "a.png", "content_base64": base64.b64encode(TINY_PNG).decode()},
        content_type="application/json",
    )
    assert refused.status_code == 404
    assert ComplaintDocument.objects.count() == 1
    assert not LedgerEntry.objects.filter(actor=outsider, action=Action.DISCLOSURE).exists()


def test_an_officer_not_cleared_for_the_complaint_cannot_reach_its_documents():
    cleared = officer(clearance=Clearance.SECRET)
    item = complaint(cleared)
    Complaint.objects.filter(pk=item.pk).update(classification=Clearance.SECRET)
    document = upload(cleared, item)
    low = officer(clearance=Clearance.OFFICIAL)
    assert (
        web(low).get(f"/oversight/complaints/{item.pk}/documents/{document.pk}/").status_code == 404
    )
    assert api(low).get(f"/api/oversight/complaints/{item.pk}/documents").status_code == 404
    with pytest.raises(selectors.NotFound):
        selectors.read_document(low, item.pk, document.pk)
    with pytest.raises(selectors.NotFound):
        upload(low, item)
    assert ComplaintDocument.objects.count() == 1
    _, data = selectors.read_document(cleared, item.pk, document.pk)
    assert data == TINY_PNG


def test_the_form_offers_the_complaints_reviews_and_binds_the_document_to_one():
    worker = officer()
    item = handled_with_outcome(worker, notice_on=date(2025, 6, 2))
    review = services.record_review_application(worker, item.pk, received_on=date(2025, 6, 2))
    client = web(worker)
    url = f"/oversight/complaints/{item.pk}/documents/"
    assert f'value="{review.pk}"' in client.get(url).content.decode()
    response = client.post(
        url,
        {
            "title": TITLE,
            "review": str(review.pk),
            "file": SimpleUploadedFile("statement.png", TINY_PNG),
        },
    )
    assert response.status_code == 302
    assert ComplaintDocument.objects.get().review == review
    page = client.get(f"/oversight/complaints/{item.pk}/").content.decode()
    assert "Review application received 2 Jun 2025" in page
