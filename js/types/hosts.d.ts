// The Mini Program host's globals, as far as js/miniprogram uses them
// (WeChat's own typings are not a dependency of this package).
declare const wx: {
  request(options: any): any;
  login(options: any): void;
  getStorageSync(key: string): any;
  setStorageSync(key: string, value: any): void;
  removeStorageSync(key: string): void;
  getRandomValues(options: any): void;
  onAppShow(callback: () => void): void;
  offAppShow?(callback: () => void): void;
  [api: string]: any;
};
declare const WXWebAssembly: {
  instantiate(path: string, imports: object): Promise<{ instance: any; module: any }>;
};
