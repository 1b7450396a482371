"""Taking a member's key into its own custody: export it, then have the platform's copy
erased. From the export on, the platform relays what the member signs and signs nothing
for it (cooperative.signing)."""

from __future__ import annotations

import json

import strawberry

from cooperative.access import DataAccess
from cooperative.api.context import AppInfo, mutate
from cooperative.api.types import UserError
from cooperative.errors import Forbidden, ValidationFailed
from cooperative.signing import confirms_custody, custody_confirmation
from cooperative.store import models
from cooperative.store.keystore import KeystoreError

MIN_PASSPHRASE = 12
MAX_PASSPHRASE = 1024

KeyCustody = strawberry.enum(models.KeyCustody, description="Who holds a member's key.")


@strawberry.input
class ExportMemberKeyInput:
    passphrase: str = strawberry.field(
        description=f"Encrypts the exported keystore ({MIN_PASSPHRASE} to {MAX_PASSPHRASE} "
        "characters); the platform does not keep it."
    )


@strawberry.type
class ExportMemberKeyPayload:
    keystore: str | None = strawberry.field(
        default=None, description="The member's key: an Ethereum V3 keystore (JSON text)."
    )
    confirmation_message: str | None = strawberry.field(
        default=None,
        description="Sign this (personal_sign) with the key and send it to confirmKeyCustody "
        "to have the platform's copy erased.",
    )
    key_custody: KeyCustody | None = None  # type: ignore[valid-type]
    errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ConfirmKeyCustodyInput:
    signature: str = strawberry.field(description="The confirmation message, signed (0x-hex).")


@strawberry.type
class ConfirmKeyCustodyPayload:
    key_custody: KeyCustody | None = None  # type: ignore[valid-type]
    errors: list[UserError] = strawberry.field(default_factory=list)


def _member_address(access: DataAccess) -> str:
    """The member acting with a key it created itself: the first key of a new member is
    issued by the operator, who must not be able to take (or erase) the member's key."""
    viewer = access.viewer
    if viewer.role is not models.Role.MEMBER or viewer.member_address is None:
        raise Forbidden("only a member takes its own key; nobody else may export it")
    key = access.api_key(viewer.key_id)
    if key.created_by not in (None, viewer.principal):
        raise Forbidden(
            "use an API key the member created itself (createApiKey), not one issued by "
            f"{key.created_by}: whoever issued a key must not be able to take the member's key"
        )
    return viewer.member_address


@strawberry.type
class CustodyMutation:
    @strawberry.mutation(
        description="Take the caller's key into its own custody: the platform answers it "
        "encrypted with the passphrase and from now on never signs for the member; the "
        "member signs each transaction itself (SIGNATURE_REQUIRED tells it what)."
    )
    def export_member_key(
        self, info: AppInfo, input: ExportMemberKeyInput
    ) -> ExportMemberKeyPayload:
        def work(access: DataAccess) -> ExportMemberKeyPayload:
            address = _member_address(access)
            if not MIN_PASSPHRASE <= len(input.passphrase) <= MAX_PASSPHRASE:
                raise ValidationFailed(
                    f"a passphrase has {MIN_PASSPHRASE} to {MAX_PASSPHRASE} characters",
                    field="passphrase",
                )
            keystore = info.context.platform.keystore
            try:
                exported = keystore.export(address, input.passphrase)
            except KeystoreError as exc:
                raise ValidationFailed(exc.message) from exc
            return ExportMemberKeyPayload(
                keystore=json.dumps(exported),
                confirmation_message=custody_confirmation(address),
                key_custody=keystore.custody(address),
            )

        return mutate(info, ExportMemberKeyPayload, work, input)

    @strawberry.mutation(
        description="Erase the platform's copy of an exported key, on the key's own signature "
        "of the confirmation message."
    )
    def confirm_key_custody(
        self, info: AppInfo, input: ConfirmKeyCustodyInput
    ) -> ConfirmKeyCustodyPayload:
        def work(access: DataAccess) -> ConfirmKeyCustodyPayload:
            address = _member_address(access)
            keystore = info.context.platform.keystore
            custody = keystore.custody(address)
            if custody is models.KeyCustody.PLATFORM:
                raise ValidationFailed("export the key first (exportMemberKey)")
            if not confirms_custody(address, input.signature):
                raise ValidationFailed(
                    "the signature is not the member's key signing the confirmation message",
                    field="signature",
                )
            if custody is models.KeyCustody.EXPORTED:
                keystore.erase(address)
            return ConfirmKeyCustodyPayload(key_custody=keystore.custody(address))

        return mutate(info, ConfirmKeyCustodyPayload, work, input)
