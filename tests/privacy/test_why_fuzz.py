"""The opt-out endpoint under internet input (hypothesis): any form fields, any cookie values, with or
without a valid CSRF token. Never a 500; without the token a 403 that changes nothing; with it a
redirect that opts the browser out, and a well-formed visitor cookie gets its suppression and record."""
from __future__ import annotations

import string

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from socialshop.campaigns.models import Suppression
from socialshop.privacy.consent import ID_RE
from socialshop.privacy.models import ConsentRecord

pytestmark = pytest.mark.django_db
OPT_OUT = "/socialshop/privacy/opt-out/"
CSRF_SECRET = "A" * 16 + "b" * 16  # a 32-character secret, as Django's csrftoken cookie holds
COOKIE_TEXT = st.text(alphabet=string.ascii_letters + string.digits + "-_=+/.:!%<>\"'\\ ", max_size=60)
VISITOR = st.one_of(COOKIE_TEXT, st.text(alphabet=string.ascii_letters + string.digits + "-_", min_size=16, max_size=40))
FIELDS = st.dictionaries(st.text(alphabet=string.printable, min_size=1, max_size=20),
                         st.text(max_size=200).map(lambda v: v.replace("\x00", "")), max_size=6)


@settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
@given(fields=FIELDS, visitor=VISITOR, consent=COOKIE_TEXT, token=st.booleans(), gpc=st.booleans())
def test_opt_out_never_fails_on_any_input(fields: dict[str, str], visitor: str, consent: str, token: bool, gpc: bool) -> None:
    client = Client(enforce_csrf_checks=True, **({"HTTP_SEC_GPC": "1"} if gpc else {}))
    client.cookies["csrftoken"] = CSRF_SECRET
    client.cookies["ss_vid"] = visitor
    client.cookies["ss_consent"] = consent
    body = {k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"}
    if token:
        body["csrfmiddlewaretoken"] = CSRF_SECRET
    before = Suppression.objects.count(), ConsentRecord.objects.filter(opted_out=True).count()
    response = client.post(OPT_OUT, body)
    if not token:
        assert response.status_code == 403
        assert (Suppression.objects.count(), ConsentRecord.objects.filter(opted_out=True).count()) == before
        return
    assert response.status_code == 302, response.content[:300]
    assert response.cookies["ss_consent"].value == "ad.dd.o1"
    if ID_RE.fullmatch(visitor):
        assert Suppression.objects.filter(person=f"v:{visitor}", channel="email").exists()
        assert ConsentRecord.objects.get(visitor_id=visitor).opted_out
    else:
        assert not ConsentRecord.objects.filter(visitor_id=visitor).exists()
