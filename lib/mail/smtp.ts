// Sending one plain-text email over SMTP (nodemailer), shared by team invitations and, in local mode,
// by the local auth server's password-reset mail. No path aliases here: local/gateway imports it too.
import nodemailer from "nodemailer";

export interface SmtpSettings {
  smtpUrl: URL;
  from: string;
}

export interface MailMessage {
  to: string;
  subject: string;
  text: string;
}

/** Send one message; rejects with the SMTP server's reason. Timeouts keep a dead server from holding the caller. */
export async function sendMail(settings: SmtpSettings, message: MailMessage): Promise<void> {
  const url = settings.smtpUrl;
  const secure = url.protocol === "smtps:";
  const transport = nodemailer.createTransport({
    host: url.hostname,
    port: Number(url.port) || (secure ? 465 : 587),
    secure,
    auth: url.username ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) } : undefined,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 20_000,
  });
  try {
    await transport.sendMail({ from: settings.from, to: message.to, subject: message.subject, text: message.text });
  } finally {
    transport.close();
  }
}
