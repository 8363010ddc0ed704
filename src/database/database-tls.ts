import { existsSync, readFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { dirname, join } from 'node:path';
import type { TlsOptions } from 'node:tls';

/**
 * TLS to PostgreSQL always verifies the server: its certificate must chain to one of the CAs in
 * `caFile`, and its name must match the host in the URL. RDS presents a certificate from its
 * regional roots; their bundle (certs/rds-global-bundle.pem) ships in the image.
 */
export interface DatabaseTls {
  /** PEM file with the certificate authorities the server's certificate must chain to. */
  caFile: string;
}

/** The folder holding package.json: the repository root, or /app in the image. */
function packageRoot(): string {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json'))) {
    const parent = dirname(dir);
    if (parent === dir) return process.cwd();
    dir = parent;
  }
  return dir;
}

/**
 * Amazon RDS's global CA bundle (every region's roots), as published at
 * https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem. The image copies it to
 * /app/certs/; from the sources it is <repo>/certs/.
 */
export const RDS_CA_BUNDLE = join(packageRoot(), 'certs', 'rds-global-bundle.pem');

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * Reads a CA file and checks that it holds at least one certificate and that every one parses;
 * throws an Error naming the file otherwise (never a half-read trust store).
 */
export function readCaBundle(caFile: string): string {
  let pem: string;
  try {
    pem = readFileSync(caFile, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new Error(`cannot read ${caFile}: ${e.code ?? e.message}`, { cause: err });
  }
  const certificates = pem.match(PEM_CERTIFICATE) ?? [];
  if (certificates.length === 0) throw new Error(`${caFile} holds no PEM certificate`);
  certificates.forEach((cert, i) => {
    try {
      new X509Certificate(cert);
    } catch (err) {
      throw new Error(`${caFile}: certificate ${i + 1} does not parse`, { cause: err });
    }
  });
  return pem;
}

/**
 * Node's TLS options for node-postgres: the given CAs only (not Node's public roots), with
 * certificate and host-name verification on.
 */
export function databaseTlsOptions(tls: DatabaseTls): TlsOptions & { ca: string } {
  return { rejectUnauthorized: true, ca: readCaBundle(tls.caFile) };
}

/**
 * Query parameters of a postgres:// URL that node-postgres lets override the `ssl` option
 * (`sslmode=require` or `ssl=no-verify` would silently replace the verified settings).
 */
const URL_TLS_PARAMETERS = ['ssl', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'uselibpqcompat'];

/** The TLS parameters a database URL carries (empty when none, or when it does not parse). */
export function tlsParametersOf(url: string): string[] {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return [];
  }
  return URL_TLS_PARAMETERS.filter((p) => parsed.searchParams.has(p));
}
