export enum Role {
  ADM = 'ADM',
  PRESIDENT = 'PRESIDENT',
  USER = 'USER',
}

export enum Organization {
  DEV = 'DEV',
  ESPORTS = 'ESPORTS',
  METAVERSO = 'METAVERSO',
  GUARDIAN = 'GUARDIAN',
  NAWAT = 'NAWAT',
  ALL = 'ALL',
}

export enum UserState {
  APPROVED = 'APPROVED',
  PENDING = 'PENDING',
  REJECTED = 'REJECTED',
}

export enum ActiveStatus {
  ACTIVE = 'ACTIVE',
  DISCONNECTED = 'DISCONNECTED',
  FREEZED = 'FREEZED',
}

export enum Course {
  ECM = 'ECM',
  ECA = 'ECA',
  CIC = 'CIC',
  EMC = 'EMC',
  ADM = 'ADM',
  EET = 'EET',
  EEN = 'EEN',
  EQM = 'EQM',
  SIN = 'SIN',
  DSG = 'DSG',
  ETC = 'ETC',
  EAL = 'EAL',
  EPM = 'EPM',
  IAD = 'IAD',
  ARQ = 'ARQ',
  RI = 'RI',
}

/** Student number (RA), e.g. 21.01234-5 or 21012345. */
export const RA_PATTERN = /^\d{2}\.?\d{5}-?\d$/;
