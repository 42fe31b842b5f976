// The pure half of i18n: which language to use, and looking up and filling in a message.
import { en, type MessageKey } from './en';
import { vi } from './vi';

export const languages = ['en', 'vi'] as const;
export type Lang = (typeof languages)[number];

export const catalogs: Record<Lang, Record<MessageKey, string>> = { en, vi };

// Names of the languages, each written in itself (for the switcher).
export const languageNames: Record<Lang, string> = { en: 'English', vi: 'Tiếng Việt' };

// BCP 47 locales for Intl formatting: British English writes dates day-first, as Vietnam does.
export const locales: Record<Lang, string> = { en: 'en-GB', vi: 'vi-VN' };

export function isLang(s: string | null | undefined): s is Lang {
  return s != null && (languages as readonly string[]).includes(s);
}

// ?lang= wins, then the language the user chose earlier, then the browser's preferences.
export function detectLang(search: string, stored: string | null, preferred: readonly string[]): Lang {
  const fromQuery = new URLSearchParams(search).get('lang')?.toLowerCase();
  if (isLang(fromQuery)) return fromQuery;
  if (isLang(stored)) return stored;
  for (const tag of preferred) {
    const primary = tag.toLowerCase().split('-')[0];
    if (isLang(primary)) return primary;
  }
  return 'en';
}

export type Params = Record<string, string | number>;

export function translate(lang: Lang, key: MessageKey, params?: Params): string {
  const text = catalogs[lang][key] ?? en[key];
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) =>
    Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole,
  );
}

export function hasKey(key: string): key is MessageKey {
  return Object.prototype.hasOwnProperty.call(en, key);
}
