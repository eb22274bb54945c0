"""Signal receivers of shoppable posts, connected in ``SocialshopConfig.ready()`` (socialshop/apps.py).

A post or tag saved by any path (admin, API, ORM, a data import) gets the same processing: the
picture's renditions are queued once the transaction commits (posts/images.py) and a tag's group,
category and title are filled from the catalog (posts/gallery.py) so the gallery filters find it.
"""
from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save, pre_save

from socialshop.exceptions import CatalogError
from socialshop.posts.gallery import snapshot_tag
from socialshop.posts.images import schedule_processing
from socialshop.posts.models import CustomerPhoto, Post, ProductTag

logger = logging.getLogger(__name__)
# Saving only these tag fields does not move it on the picture, so the crops stay as they are.
TAG_FIELDS_WITHOUT_POSITION = frozenset({"group_id", "category", "title", "variant_chosen", "updated_at"})


def post_saved(sender: type[Post], instance: Post, created: bool, raw: bool = False, **kwargs: Any) -> None:
    """A new post, or a post with a new picture, gets its image processed after the commit."""
    if raw:  # loaddata: fixtures carry their processed state
        return
    if created or getattr(instance, "image_changed", False):
        schedule_processing(instance.pk)


def post_deleted(sender: type[Post], instance: Post, **kwargs: Any) -> None:
    """A deleted post takes its picture files with it, once the deletion commits."""
    from socialshop.posts.images import delete_post_files

    pk, name = instance.pk, instance.image.name if instance.image else ""
    transaction.on_commit(lambda: delete_post_files(pk, name))


def tag_saving(sender: type[ProductTag], instance: ProductTag, raw: bool = False, **kwargs: Any) -> None:
    """Fill the tag's group, category and title from the catalog when its product is new to it."""
    if raw:
        return
    product_changed = getattr(instance, "stored_product_id", None) != instance.product_id
    if instance.group_id and not product_changed:
        return  # the admin form and the API snapshot the record they validated
    try:
        snapshot_tag(instance)
    except CatalogError as exc:
        logger.warning("product tag %s on post %s: the catalogue failed (%s); group and category stay empty",
                       instance.product_id, instance.post_id, exc)
        return


def tag_saved(sender: type[ProductTag], instance: ProductTag, created: bool, raw: bool = False,
              update_fields: Any = None, **kwargs: Any) -> None:
    """A new or moved tag changes the crops that keep tags inside: cut the renditions again."""
    if raw or not instance.post_id:
        return
    if update_fields is not None and set(update_fields) <= TAG_FIELDS_WITHOUT_POSITION:
        return
    schedule_processing(instance.post_id)


def tag_deleted(sender: type[ProductTag], instance: ProductTag, **kwargs: Any) -> None:
    """Without this tag the crops may change; a post deleted with its tags makes the run a no-op."""
    if instance.post_id:
        schedule_processing(instance.post_id)


def connect() -> None:
    """Connect the receivers (called once from ``SocialshopConfig.ready()``)."""
    for sender in (Post, CustomerPhoto):
        post_save.connect(post_saved, sender=sender, dispatch_uid=f"socialshop.posts.saved.{sender.__name__}")
        post_delete.connect(post_deleted, sender=sender, dispatch_uid=f"socialshop.posts.deleted.{sender.__name__}")
    pre_save.connect(tag_saving, sender=ProductTag, dispatch_uid="socialshop.posts.tag_saving")
    post_save.connect(tag_saved, sender=ProductTag, dispatch_uid="socialshop.posts.tag_saved")
    post_delete.connect(tag_deleted, sender=ProductTag, dispatch_uid="socialshop.posts.tag_deleted")
