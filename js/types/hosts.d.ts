// The Mini Program host's globals, as far as js/miniprogram uses them
// (WeChat's own typings are not a dependency of this package).
/** What a Mini Program host offers (WeChat's wx, Douyin's tt: the same shapes). */
interface MiniProgramApi {
  request(options: any): any;
  login(options: any): void;
  getStorageSync(key: string): any;
  setStorageSync(key: string, value: any): void;
  removeStorageSync(key: string): void;
  getRandomValues?(options: any): void;
  onAppShow(callback: () => void): void;
  offAppShow?(callback: () => void): void;
  [api: string]: any;
}
/** A host's WebAssembly (WXWebAssembly, TTWebAssembly): instantiate takes a path in the code package. */
interface MiniProgramWebAssembly {
  instantiate(path: string, imports: object): Promise<{ instance: any; module: any }>;
}
declare const wx: MiniProgramApi;
declare const WXWebAssembly: MiniProgramWebAssembly;
declare const tt: MiniProgramApi;
declare const TTWebAssembly: MiniProgramWebAssembly;
