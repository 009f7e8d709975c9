"""The data model: one module per aggregate. No Flask request, no services here."""

from idp.models.account_link import AccountLink
from idp.models.analytics import LoginDay, LoginDayMarker
from idp.models.audit import AppendOnlyError, AuditEvent
from idp.models.client import Client, ClientAssertion, ClientRecord, hash_secret
from idp.models.credential import Credential, EmailCode, Lockout, RecoveryCode
from idp.models.dpop import DPoPProof
from idp.models.email_change import EmailChange
from idp.models.erasure import MemberErasure, RetiredCardNumber
from idp.models.grant import AuthorizationCode, Consent, ConsentRecord, ConsentStep
from idp.models.invitation import DeveloperInvitation
from idp.models.linking import LinkedProfile, LinkingRecord, UpstreamRequest
from idp.models.mail import OutgoingMail
from idp.models.member import CardNumber, Member
from idp.models.notification import PartnerNotification
from idp.models.partner import Partner, PartnerDeveloper
from idp.models.partner_access import PartnerAccess
from idp.models.passkey import Passkey, PasskeyChallenge
from idp.models.pushed_request import PushedAuthorizationRequest
from idp.models.registration import InitialAccessToken
from idp.models.signing_key import SigningKey
from idp.models.ssf import SsfEvent, SsfStream
from idp.models.sso import SSOSession
from idp.models.staff import StaffMember
from idp.models.token import Token

__all__ = [
    "AccountLink",
    "AppendOnlyError",
    "AuditEvent",
    "AuthorizationCode",
    "CardNumber",
    "Client",
    "ClientAssertion",
    "ClientRecord",
    "Consent",
    "ConsentRecord",
    "ConsentStep",
    "Credential",
    "DPoPProof",
    "EmailCode",
    "InitialAccessToken",
    "Lockout",
    "Member",
    "OutgoingMail",
    "Partner",
    "PartnerDeveloper",
    "PartnerNotification",
    "RecoveryCode",
    "SSOSession",
    "SsfEvent",
    "SsfStream",
    "SigningKey",
    "Token",
    "hash_secret",
    "LinkedProfile",
    "LinkingRecord",
    "UpstreamRequest",
    "StaffMember",
    "LoginDay",
    "LoginDayMarker",
    "DeveloperInvitation",
    "EmailChange",
    "MemberErasure",
    "RetiredCardNumber",
    "PartnerAccess",
    "Passkey",
    "PasskeyChallenge",
    "PushedAuthorizationRequest",
]
