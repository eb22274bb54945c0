"""All socialshop models, imported from their domains so Django finds them in one app."""
from socialshop.audiences.models import Audience, AudienceBuild, AudienceCandidate, AudienceMember, VisitorLink
from socialshop.campaigns.models import (
    AdAudience, Assignment, Campaign, CampaignMember, Creative, CreativeRun, IssuedCode, MemberPick, PlatformReport,
    ReportPull, Suppression, Touch, Variant,
)
from socialshop.core.models import Heartbeat, JobLock, JobRun
from socialshop.feeds.models import Feed, FeedBuild, ProductSetItem
from socialshop.platforms.models import PlatformStatus
from socialshop.privacy.models import ConsentChoice, ConsentRecord
from socialshop.posts.models import Comment, CustomerPhoto, Post, ProductTag
from socialshop.tracking.models import (
    Delivery, DeliveryStatus, Event, EventCursor, EventName, EventSource, Interest, PurgeRun,
)

__all__ = [
    "Audience", "AudienceBuild", "AudienceCandidate", "AudienceMember", "VisitorLink",
    "Assignment", "Campaign", "CampaignMember", "IssuedCode", "MemberPick", "ProductSetItem", "Suppression", "Touch", "Variant",
    "ConsentChoice", "ConsentRecord", "Delivery", "DeliveryStatus", "Event", "EventCursor", "EventName", "EventSource",
    "Interest", "PurgeRun",
    "AdAudience", "Creative", "CreativeRun", "PlatformReport", "ReportPull",
    "Feed", "FeedBuild", "Heartbeat", "JobLock", "JobRun", "PlatformStatus", "Comment", "CustomerPhoto", "Post", "ProductTag",
]

from socialshop.campaigns.models import EmailSend  # noqa: E402 - abandoned-cart emails (campaigns/email.py)

__all__ += ["EmailSend"]
