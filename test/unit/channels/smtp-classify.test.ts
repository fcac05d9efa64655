import { describe, expect, it } from 'vitest';
import { classifySmtpError, type SmtpProgress } from '../../../src/channels/email/classify.ts';

/** The error shapes nodemailer 10.6.1 gives for each case, as observed against smtp-server. */
const observed = {
  refused: {
    message: 'connect ECONNREFUSED 127.0.0.1:44879',
    code: 'ESOCKET',
    command: 'CONN',
    originalCode: 'ECONNREFUSED',
    errno: -111,
    syscall: 'connect',
  },
  dns: {
    message: 'getaddrinfo ENOTFOUND nonexistent.invalid',
    code: 'EDNS',
    command: 'CONN',
    originalCode: 'ENOTFOUND',
    errno: -3008,
    syscall: 'getaddrinfo',
  },
  greetingTimeout: {
    message: 'Greeting never received',
    code: 'ETIMEDOUT',
    command: 'CONN',
    timeoutType: 'GREETING_TIMEOUT',
  },
  closedBeforeGreeting: { message: 'Connection closed unexpectedly', code: 'ECONNECTION', command: 'CONN' },
  poolGaveUp: {
    message: 'Reached maximum number of retries after connection was closed',
    code: 'ECONNECTION',
  },
  greeting421: {
    message: 'Invalid greeting. response=421 too busy: 421 too busy',
    code: 'EPROTOCOL',
    command: 'CONN',
    response: '421 too busy',
    responseCode: 421,
    permanent: false,
  },
  mailFrom451: {
    message: 'Mail command failed: 451 sender says no',
    code: 'EENVELOPE',
    command: 'MAIL FROM',
    response: '451 sender says no',
    responseCode: 451,
    permanent: false,
  },
  rcpt550: {
    message: "Can't send mail - all recipients were rejected: 550 5.1.1 no such user",
    code: 'EENVELOPE',
    command: 'RCPT TO',
    response: '550 5.1.1 no such user',
    responseCode: 550,
    permanent: true,
  },
  data421: {
    message: 'Message failed: 421 try later',
    code: 'EMESSAGE',
    command: 'DATA',
    response: '421 try later',
    responseCode: 421,
    permanent: false,
  },
  data451: {
    message: 'Message failed: 451 try later',
    code: 'EMESSAGE',
    command: 'DATA',
    response: '451 try later',
    responseCode: 451,
    permanent: false,
  },
  data550: {
    message: 'Message failed: 550 content rejected\nsee https://example/why',
    code: 'EMESSAGE',
    command: 'DATA',
    response: '550 content rejected\nsee https://example/why',
    responseCode: 550,
    permanent: true,
  },
  data503: {
    message: 'Message failed: 503 bad sequence',
    code: 'EMESSAGE',
    command: 'DATA',
    response: '503 bad sequence',
    responseCode: 503,
    permanent: false,
  },
  auth535: {
    message: 'Invalid login: 535 5.7.8 bad credentials',
    code: 'EAUTH',
    command: 'AUTH PLAIN',
    response: '535 5.7.8 bad credentials',
    responseCode: 535,
    permanent: true,
  },
  // The same two shapes come whether the connection went during MAIL FROM or after the final dot.
  dropped: { message: 'Connection closed unexpectedly', code: 'ECONNECTION', command: 'CONN' },
  socketTimeout: { message: 'Timeout', code: 'ETIMEDOUT', command: 'CONN', timeoutType: 'SOCKET_TIMEOUT' },
  tooManyRecipients: {
    message: 'Message has 3 recipients, which is over the 1 allowed by maxRecipients',
    code: 'EMAXRECIPIENTS',
  },
};

const error = (fields: Record<string, unknown>) =>
  Object.assign(new Error(String(fields['message'])), fields);
const beforeBody: SmtpProgress = { reachedTransport: true, bodySent: false };
const afterBody: SmtpProgress = { reachedTransport: true, bodySent: true };

describe('classifySmtpError', () => {
  it.each([
    ['refused', observed.refused, 'smtp_connection: ECONNREFUSED'],
    ['dns', observed.dns, 'smtp_connection: ENOTFOUND'],
    ['greeting timeout', observed.greetingTimeout, 'smtp_connection: GREETING_TIMEOUT'],
    ['closed before greeting', observed.closedBeforeGreeting, 'smtp_connection: ECONNECTION'],
    ['pool gave up requeueing', observed.poolGaveUp, 'smtp_connection: ECONNECTION'],
    ['dropped before the body', observed.dropped, 'smtp_connection: ECONNECTION'],
    ['timed out before the body', observed.socketTimeout, 'smtp_connection: SOCKET_TIMEOUT'],
  ])('%s → transient', (_case, fields, reason) => {
    expect(classifySmtpError(error(fields), beforeBody)).toEqual({ status: 'transient', reason });
  });

  it.each([
    ['421 greeting', observed.greeting421, 'smtp_421'],
    ['451 MAIL FROM', observed.mailFrom451, 'smtp_451'],
    ['421 after DATA', observed.data421, 'smtp_421'],
    ['451 after DATA', observed.data451, 'smtp_451'],
    ['503 (a session fault)', observed.data503, 'smtp_503'],
    ['535 login refused (the deployment, not the message)', observed.auth535, 'smtp_auth_535'],
  ])('an SMTP reply %s → transient, before or after the body', (_case, fields, reason) => {
    expect(classifySmtpError(error(fields), beforeBody)).toEqual({ status: 'transient', reason });
    expect(classifySmtpError(error(fields), afterBody)).toEqual({ status: 'transient', reason });
  });

  it("a 5xx reply → permanent with the code only: the reply's text may quote the address", () => {
    expect(classifySmtpError(error(observed.rcpt550), beforeBody)).toEqual({
      status: 'permanent',
      reason: 'smtp_550',
    });
    expect(classifySmtpError(error(observed.data550), afterBody)).toEqual({
      status: 'permanent',
      reason: 'smtp_550',
    });
    const quoting = {
      ...observed.rcpt550,
      response: '550 5.1.1 <ana@example.com>: Recipient address rejected',
    };
    expect(JSON.stringify(classifySmtpError(error(quoting), beforeBody))).not.toContain('ana@example.com');
  });

  it('no reply after the body went out → unknown, whether dropped or timed out', () => {
    for (const fields of [observed.dropped, observed.socketTimeout, observed.poolGaveUp]) {
      expect(classifySmtpError(error(fields), afterBody)).toEqual({
        status: 'unknown',
        reason: 'connection_lost_after_data',
      });
    }
  });

  it('nodemailer refusing the message itself → permanent', () => {
    expect(
      classifySmtpError(error(observed.tooManyRecipients), { reachedTransport: false, bodySent: false }),
    ).toEqual({
      status: 'permanent',
      reason: 'message_rejected: EMAXRECIPIENTS',
    });
  });

  it('reads anything thrown, not only errors', () => {
    expect(classifySmtpError('boom', beforeBody)).toEqual({
      status: 'transient',
      reason: 'smtp_connection: other',
    });
    expect(classifySmtpError(undefined, afterBody)).toEqual({
      status: 'unknown',
      reason: 'connection_lost_after_data',
    });
  });
});
