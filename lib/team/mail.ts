// Invitation emails over SMTP (nodemailer) when the operator sets PACER_SMTP_URL and PACER_MAIL_FROM;
// without PACER_SMTP_URL Pacer is in local mode and the inviter is shown the link to pass on instead.
import { sendMail } from "@/lib/mail/smtp";
import { PacerError } from "@/lib/api/errors";
import { withArticle } from "./input";

export interface MailSettings {
  smtpUrl: URL;
  from: string;
}

/** The SMTP settings, or null in local mode; refuses (503) when they are set but incomplete. */
export function mailSettings(): MailSettings | null {
  const configured = process.env.PACER_SMTP_URL?.trim();
  if (!configured) return null;
  let smtpUrl: URL;
  try {
    smtpUrl = new URL(configured);
  } catch {
    smtpUrl = new URL("invalid:");
  }
  if (smtpUrl.protocol !== "smtp:" && smtpUrl.protocol !== "smtps:") {
    throw new PacerError(503, "mail_not_configured", "PACER_SMTP_URL must look like smtps://user:password@smtp.example.com:465 (or smtp:// for STARTTLS); the operator sets it.");
  }
  const from = process.env.PACER_MAIL_FROM?.trim();
  if (!from) {
    throw new PacerError(503, "mail_not_configured", "Invitations are sent by email here, and PACER_MAIL_FROM (the sender, e.g. Pacer <team@example.com>) is not set; the operator sets it.");
  }
  return { smtpUrl, from };
}

export interface InvitationMail {
  to: string;
  link: string;
  workspaceName: string;
  role: string;
  inviter: string | null;
  expiresAt: Date;
}

/** Send one invitation; rejects with the SMTP server's reason. */
export async function sendInvitationMail(settings: MailSettings, mail: InvitationMail): Promise<void> {
  const who = mail.inviter ?? "A teammate";
  await sendMail(settings, {
    to: mail.to,
    subject: `${who} invited you to ${mail.workspaceName} on Pacer`,
    text: [
      `${who} invited you to join the workspace "${mail.workspaceName}" on Pacer as ${withArticle(mail.role)}.`,
      "",
      `Accept the invitation: ${mail.link}`,
      "",
      `Sign in (or sign up) with this address, ${mail.to}, to accept. The link works once and expires on ${mail.expiresAt.toUTCString()}.`,
      "If you were not expecting this, ignore this email.",
    ].join("\n"),
  });
}
