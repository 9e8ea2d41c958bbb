// what Vite imports that TypeScript does not know by itself
declare module "*.css";
