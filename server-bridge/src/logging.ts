/**
 * pino JSON logs to stdout. Request URLs are logged without their query string and
 * credentials (Authorization, cookies) are redacted wherever they appear.
 */
import pino, {
  type DestinationStream,
  type Logger,
  type LevelWithSilent
} from 'pino';

export function pathOnly(url: string): string {
  const i = url.search(/[?#]/);
  return i === -1 ? url : url.slice(0, i);
}

interface ILoggableRequest {
  method?: string;
  url?: string;
  ip?: string;
  id?: string;
}

export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  '*.authorization',
  'token',
  '*.token',
  'password',
  '*.password',
  'secret',
  '*.secret'
];

export function createLogger(
  level: LevelWithSilent = 'info',
  destination?: DestinationStream
): Logger {
  return pino(
    {
      name: 'hpc-bridge',
      level,
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        req: (req: ILoggableRequest) => ({
          method: req.method,
          url: pathOnly(req.url ?? ''),
          remoteAddress: req.ip
        }),
        err: pino.stdSerializers.err
      }
    },
    destination ?? pino.destination({ dest: 1, sync: false })
  );
}
