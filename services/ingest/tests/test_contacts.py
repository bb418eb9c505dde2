"""Customer matching (seed 004), pure."""

from __future__ import annotations

from orderflow_ingest.contacts import Contact, ContactBook, Customer, normal_phone


def test_external_id_first_and_a_new_email_keeps_the_customer() -> None:
    book = ContactBook()
    first = book.resolve(Contact("c1", "a@x.org", None))
    assert book.resolve(Contact("c1", "b@x.org", None)) == first
    assert book.resolve(Contact(None, "b@x.org", None)) == first
    assert book.changed[first].emails == {"a@x.org", "b@x.org"}


def test_email_or_phone_match_and_adoption_of_an_external_id() -> None:
    known = Customer("k1", None, {"a@x.org"}, {"49170123"})
    book = ContactBook([known])
    assert book.resolve(Contact(None, None, "49170123")) == "k1"
    assert book.resolve(Contact("c9", "a@x.org", None)) == "k1"
    assert known.external_id == "c9"
    assert book.resolve(Contact("c10", "a@x.org", None)) != "k1"  # another external id


def test_no_contact_no_customer() -> None:
    assert ContactBook().resolve(Contact(None, None, None)) is None
    assert normal_phone("+49 (170) 12-3") == "49170123"
