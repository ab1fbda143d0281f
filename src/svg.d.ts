declare module '*.svg' {
  const svgstr: string;
  export default svgstr;
}
