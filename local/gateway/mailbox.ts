// Where the local auth server's emails go. With PACER_SMTP_URL and PACER_MAIL_FROM set (the settings
// team invitations use) they are sent over SMTP; otherwise they stay on this computer, in a mailbox
// the gateway shows at /mailbox (as the Supabase CLI's local stack catches mail in Mailpit) and
// summed up in the dev log.
import { sendMail, type SmtpSettings } from "../../lib/mail/smtp.ts";
import type { AuthMail } from "./auth.ts";

export interface CaughtMail extends AuthMail {
  at: Date;
}

/** The newest mails first; only the last 50 are kept (it lives in memory, for one dev session). */
export class LocalMailbox {
  private mails: CaughtMail[] = [];

  add(mail: AuthMail) {
    this.mails.unshift({ ...mail, at: new Date() });
    this.mails.length = Math.min(this.mails.length, 50);
  }

  list(): readonly CaughtMail[] {
    return this.mails;
  }

  /** The page at /mailbox: every caught mail with its link, newest first. */
  page(): Response {
    const items = this.mails
      .map(
        (m) => `<li><article aria-label="Email to ${escape(m.to)}">
  <h2>${escape(m.subject)}</h2>
  <p>To <strong>${escape(m.to)}</strong> · ${escape(m.at.toUTCString())}</p>
  <p><a href="${escape(m.link)}">Open the link in this email</a></p>
  <pre>${escape(m.text)}</pre>
</article></li>`,
      )
      .join("\n");
    const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Local mailbox · Pacer</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem}ol{list-style:none;padding:0}
article{border:1px solid #ccc;border-radius:.5rem;padding:0 1rem;margin:1rem 0}pre{white-space:pre-wrap}</style></head>
<body><h1>Local mailbox</h1>
<p>This copy of Pacer runs locally and sends no email: the password-reset emails it would send land here.
Set PACER_SMTP_URL and PACER_MAIL_FROM to send them instead.</p>
${this.mails.length ? `<ol>${items}</ol>` : "<p>No email yet. Ask for a password reset on the sign-in page, then reload.</p>"}
</body></html>`;
    return new Response(html, {
      headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store", "x-frame-options": "DENY" },
    });
  }
}

/** SMTP when configured (both settings), else the mailbox; says in the log which, once per mail. */
export function authMailDelivery(mailbox: LocalMailbox, log: (line: string) => void, mailboxUrl: () => string) {
  const smtp = smtpFromEnv(log);
  return async (mail: AuthMail) => {
    if (smtp) {
      await sendMail(smtp, mail);
      return;
    }
    mailbox.add(mail);
    log(`mail to ${mail.to} ("${mail.subject}") is in the local mailbox: ${mailboxUrl()}`);
  };
}

function smtpFromEnv(log: (line: string) => void): SmtpSettings | null {
  const url = process.env.PACER_SMTP_URL?.trim();
  const from = process.env.PACER_MAIL_FROM?.trim();
  if (!url) return null;
  if (!from || !/^smtps?:$/.test(safeUrl(url)?.protocol ?? "")) {
    log("PACER_SMTP_URL is set but PACER_MAIL_FROM is missing or the URL is not smtp(s)://: auth emails go to the local mailbox");
    return null;
  }
  return { smtpUrl: new URL(url), from };
}

function safeUrl(value: string): URL | null {
  try {
    return new URL(value);
  } catch {
    return null;
  }
}

function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]!);
}
