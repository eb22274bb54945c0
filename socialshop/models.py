"""All socialshop models, imported from their domains so Django finds them in one app."""
from socialshop.audiences.models import Audience, AudienceBuild, AudienceCandidate, AudienceMember, VisitorLink
from socialshop.campaigns.models import Assignment, Campaign, CampaignMember, IssuedCode, MemberPick, Suppression, Touch, Variant
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
    "Feed", "FeedBuild", "Heartbeat", "JobLock", "JobRun", "PlatformStatus", "Comment", "CustomerPhoto", "Post", "ProductTag",
]
