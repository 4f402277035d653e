// The operator's headless passphrase: the names are part of the documented interface (README).
export const SECRET_KEY_ENV = 'MKC_SECRET_KEY';
export const SECRET_KEY_FILE_ENV = 'MKC_SECRET_KEY_FILE';
