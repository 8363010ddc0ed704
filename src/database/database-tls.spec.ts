import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { buildDataSourceOptions, DatabaseSettings } from '../../ormconfig';
import { RDS_CA_BUNDLE, readCaBundle, tlsParametersOf } from './database-tls';

const URL = 'postgres://app:pw@db.example.internal:5432/portal';
const ROOT = join(__dirname, '..', '..');
const sslOf = (settings: DatabaseSettings) =>
  (buildDataSourceOptions(settings) as Extract<DataSourceOptions, { type: 'postgres' }>).ssl;

describe('database TLS options', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'portal-api-tls-unit-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('verifies the server against the shipped RDS bundle by default', () => {
    expect(sslOf({ url: URL, ssl: true })).toEqual({
      rejectUnauthorized: true,
      ca: readFileSync(RDS_CA_BUNDLE, 'utf8'),
    });
  });

  it('verifies against another CA file when one is named', () => {
    const caFile = join(dir, 'ca.pem');
    const pem = readFileSync(RDS_CA_BUNDLE, 'utf8').split('-----END CERTIFICATE-----')[0];
    writeFileSync(caFile, `${pem}-----END CERTIFICATE-----\n`);
    expect(sslOf({ url: URL, ssl: { caFile } })).toEqual({
      rejectUnauthorized: true,
      ca: readFileSync(caFile, 'utf8'),
    });
  });

  it('is plain TCP without ssl', () => {
    expect(sslOf({ url: URL })).toBe(false);
    expect(sslOf({ url: URL, ssl: false })).toBe(false);
  });

  it.each(['sslmode=require', 'sslmode=no-verify', 'ssl=true', 'sslrootcert=/x.pem'])(
    'refuses a URL whose %s would replace the verified settings',
    (query) => {
      expect(() => buildDataSourceOptions({ url: `${URL}?${query}`, ssl: true })).toThrow(
        /must not carry ssl/,
      );
      expect(tlsParametersOf(`${URL}?${query}`)).toHaveLength(1);
    },
  );

  it('refuses a CA file that is missing, empty or broken, naming it', () => {
    const empty = join(dir, 'empty.pem');
    writeFileSync(empty, 'nothing here\n');
    const broken = join(dir, 'broken.pem');
    writeFileSync(broken, '-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n');
    expect(() => readCaBundle(join(dir, 'missing.pem'))).toThrow(
      /cannot read .*missing\.pem: ENOENT/,
    );
    expect(() => readCaBundle(empty)).toThrow(/empty\.pem holds no PEM certificate/);
    expect(() => readCaBundle(broken)).toThrow(/broken\.pem: certificate 1 does not parse/);
  });
});

describe('the shipped RDS CA bundle (certs/rds-global-bundle.pem)', () => {
  const pem = readFileSync(RDS_CA_BUNDLE, 'utf8');
  const certs = (
    pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
  ).map((c) => new X509Certificate(c));

  it('is found at the repository root, where the image copies it', () => {
    expect(relative(ROOT, RDS_CA_BUNDLE)).toBe(join('certs', 'rds-global-bundle.pem'));
    const dockerfile = readFileSync(join(ROOT, 'docker', 'Dockerfile'), 'utf8');
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^WORKDIR \/app$/m);
    expect(runtime).toMatch(/^COPY certs\/rds-global-bundle\.pem \.\/certs\/$/m);
    const ignore = readFileSync(join(ROOT, 'docker', 'Dockerfile.dockerignore'), 'utf8');
    expect(ignore).toMatch(/^!certs\/rds-global-bundle\.pem$/m);
  });

  it('holds only Amazon RDS root CAs, each self-signed, parsable and still valid', () => {
    expect(certs.length).toBeGreaterThanOrEqual(90);
    const now = Date.now();
    for (const cert of certs) {
      expect(cert.subject).toMatch(/^C=US\nO=Amazon Web Services\\, Inc\.\nOU=Amazon RDS\n/);
      expect(cert.subject).toMatch(/\nCN=Amazon RDS [\w -]+ Root CA (RSA2048|RSA4096|ECC384) G1\n/);
      expect(cert.issuer).toBe(cert.subject);
      expect(cert.ca).toBe(true);
      expect(cert.verify(cert.publicKey)).toBe(true);
      expect(new Date(cert.validTo).getTime()).toBeGreaterThan(now);
    }
    expect(new Set(certs.map((c) => c.fingerprint256)).size).toBe(certs.length);
  });

  it('covers the regions the stacks deploy to (sa-east-1 by default) with all three key types', () => {
    const names = certs.map((c) => /\nCN=(.+)\n/.exec(c.subject)![1]);
    for (const region of ['sa-east-1', 'us-east-1']) {
      for (const kind of ['RSA2048', 'RSA4096', 'ECC384']) {
        expect(names).toContain(`Amazon RDS ${region} Root CA ${kind} G1`);
      }
    }
  });
});
