"""Password reset through a single-use link sent by e-mail."""

from fastapi import APIRouter, BackgroundTasks, status

from pravis_api.api.deps import MailerDep, PasswordResetServiceDep
from pravis_api.schemas.auth import (
    PasswordResetAccepted,
    PasswordResetConfirm,
    PasswordResetRequest,
)
from pravis_api.schemas.problem import problem_responses
from pravis_api.services.password_reset import send_reset_mail

router = APIRouter(prefix="/auth/password-reset", tags=["auth"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=PasswordResetAccepted,
    responses=problem_responses(422),
)
async def request_password_reset(
    payload: PasswordResetRequest,
    service: PasswordResetServiceDep,
    mailer: MailerDep,
    background_tasks: BackgroundTasks,
) -> PasswordResetAccepted:
    """E-mail a reset link to the account, if there is one.

    The response is the same whether or not the e-mail has an account, and
    the e-mail is sent after the response, so its timing reveals nothing.
    """
    mail = await service.create_reset_mail(payload.email)
    if mail is not None:
        background_tasks.add_task(send_reset_mail, mailer, mail)
    return PasswordResetAccepted()


@router.post(
    "/confirm",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=problem_responses(400, 422),
)
async def confirm_password_reset(
    payload: PasswordResetConfirm, service: PasswordResetServiceDep
) -> None:
    """Set a new password with the token from the e-mail. Every session of
    the account is signed out."""
    await service.reset_password(payload.token, payload.new_password)
